"""The ids of the designations a request filters by are those of the database at that request:
a rename, a seed, a soft delete, a purge and a registration in between are seen at once."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.access.auth import grant_dataset
from app.models import ApiKey, Dataset, Image
from tests.support.dataset_tree import write_tree
from tests.support.factories import bearer, make_api_key, make_dataset, make_image, make_subject
from tests.support.world import build_world

BETA_IMAGES = ["i5", "i6", "i7", "i8"]


def images(client, headers, **params) -> tuple[int, object]:
    """GET /images: (status, the image ids of the page) or (status, the error's `errors`)."""
    response = client.get("/api/v1/images", headers=headers, query_string=params)
    body = response.get_json()
    if response.status_code != 200:
        return response.status_code, body["errors"]
    return 200, [item["id"] for item in body["items"]]


@pytest.mark.parametrize(("parameter", "kind", "old", "new", "matching", "known"), [
    ("dataset", "datasets", "BETA", "DELTA", BETA_IMAGES, "ALPHA, DELTA"),
    ("condition", "conditions", "AD", "Alzheimer's disease", ["i3", "i8"],
     "Alzheimer's disease, HC"),
])
def test_a_renamed_designation_answers_to_its_new_name_only(
        session, client, auth_headers, parameter, kind, old, new, matching, known):
    world = build_world(session)
    expected = [world.id("images", name) for name in matching]
    assert images(client, auth_headers, **{parameter: old}) == (200, expected)
    getattr(world, kind)[old].designation = new
    session.commit()
    assert images(client, auth_headers, **{parameter: old}) == (
        400, {parameter: [f"unknown {parameter}: {old} (known: {known})"]})
    assert images(client, auth_headers, **{parameter: new.lower()}) == (200, expected)


def test_seeded_designations_are_known_at_once(app, session, client, auth_headers):
    build_world(session)
    assert images(client, auth_headers, dataset="OASIS")[0] == 400
    seeded = app.test_cli_runner().invoke(args=["seed"])
    assert seeded.exit_code == 0, seeded.output
    assert images(client, auth_headers, dataset="OASIS") == (200, [])
    assert images(client, auth_headers, condition="Alzheimer's disease") == (200, [])


def test_a_deleted_dataset_then_purged_then_registered_again(app, session, client,
                                                              auth_headers, tmp_path: Path):
    world = build_world(session)
    old_id = world.datasets["BETA"].id
    runner = app.test_cli_runner()
    # Marked deleted: still a known designation (as before), whose rows no longer show.
    assert runner.invoke(args=["dataset", "delete", "BETA"]).exit_code == 0
    assert images(client, auth_headers, dataset="BETA") == (200, [])
    purged = runner.invoke(args=["dataset", "delete", "BETA", "--purge", "--yes"])
    assert purged.exit_code == 0, purged.output
    assert images(client, auth_headers, dataset="BETA") == (
        400, {"dataset": ["unknown dataset: BETA (known: ALPHA)"]})
    loaded = runner.invoke(args=["load-bids", str(write_tree(tmp_path / "ds")),
                                 "--dataset", "BETA", "--register"])
    assert loaded.exit_code == 0, loaded.output
    session.expire_all()
    new_id = session.scalar(select(Dataset.id).where(Dataset.designation == "BETA"))
    new_images = list(session.scalars(select(Image.id).where(Image.dataset_id == new_id)
                                      .order_by(Image.id)))
    assert new_id != old_id and len(new_images) == 2
    assert images(client, auth_headers, dataset="BETA") == (200, new_images)


def test_designations_differing_in_case_match_together(session, client, auth_headers):
    world = build_world(session)
    lower_beta = make_dataset(session, designation="beta")
    subject = make_subject(session, dataset=lower_beta, external_id="sub-x")
    extra = make_image(session, dataset=lower_beta, subject=subject, path="beta/x.nii.gz")
    session.commit()
    beta = [world.id("images", name) for name in BETA_IMAGES]
    assert images(client, auth_headers, dataset="Beta") == (200, [*beta, extra.id])


def test_a_restricted_key_sees_a_dataset_granted_between_two_requests(session, client):
    world = build_world(session)
    key, token = make_api_key(session, datasets=[world.datasets["ALPHA"]])
    session.commit()
    beta_id, beta = world.id("datasets", "BETA"), [world.id("images", n) for n in BETA_IMAGES]
    assert images(client, bearer(token), dataset="BETA") == (
        400, {"dataset": ["unknown dataset: BETA (known: ALPHA)"]})
    # A server's request has a session of its own: the key's rows are read afresh.
    session.expunge_all()
    assert grant_dataset(session.get(ApiKey, key.id), session.get(Dataset, beta_id))
    session.commit()
    assert images(client, bearer(token), dataset="BETA") == (200, beta)
