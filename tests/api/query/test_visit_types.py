"""visit_has_type on /visits and /subjects: one visit holding an image of each given type."""
from __future__ import annotations

import pytest


def ids(response) -> list[int]:
    body = response.get_json()
    assert response.status_code == 200, body
    return [item["id"] for item in body["items"]]


@pytest.mark.parametrize(("types", "visits", "subjects"), [
    (["T1"], ["a0", "a1", "b0", "c0", "e0"], ["ann", "bob", "cat", "eve"]),
    (["T1", "DWI"], ["a0"], ["ann"]),
    # cat has a T1 and an rsfMRI, but at two different visits.
    (["T1", "rsfMRI"], [], []),
    (["rsfMRI"], ["c1"], ["cat"]),
    (["T1", "T1"], ["a0", "a1", "b0", "c0", "e0"], ["ann", "bob", "cat", "eve"]),
])
def test_one_visit_must_hold_every_type(get, world, types, visits, subjects):
    assert world.names("visits", ids(get("/visits", visit_has_type=types))) == visits
    assert world.names("subjects", ids(get("/subjects", visit_has_type=types))) == subjects


def test_has_type_still_accepts_types_at_different_visits(get, world):
    found = ids(get("/subjects", has_type=["T1", "rsfMRI"]))
    assert world.names("subjects", found) == ["cat"]


def test_a_deleted_image_does_not_count(get, session, world):
    # i9, ann's soft-deleted T1 at a0, is not what makes a0 match: i1 is. Delete i1 too.
    world.images["i1"].deleted_at = world.images["i9"].deleted_at
    session.commit()
    assert world.names("visits", ids(get("/visits", visit_has_type=["T1", "DWI"]))) == []


def test_an_unknown_type_is_a_400_naming_it(get, world):
    response = get("/visits", visit_has_type="PET")
    assert response.status_code == 400
    assert "visit_has_type" in response.get_json()["errors"]
