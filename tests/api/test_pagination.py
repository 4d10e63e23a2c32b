"""Pages, per_page limits, and keyset cursors that survive inserts (shared by every collection)."""
import pytest

from app.api.images import IMAGE_SORTS
from app.models import ImageType
from tests.support.factories import make_image
from tests.support.world import ALL_IMAGES


def names(world, body) -> list[str]:
    return world.names("images", [item["id"] for item in body["items"]])


def test_pages_split_the_rows_and_the_last_page_is_short(world, get):
    pages = [get("/images", per_page=3, page=page).get_json() for page in (1, 2, 3)]
    assert [names(world, body) for body in pages] == [
        ["i1", "i2", "i3"], ["i4", "i5", "i6"], ["i7", "i8"]]
    assert [body["total"] for body in pages] == [8, 8, 8]
    assert [body["page"] for body in pages] == [1, 2, 3]
    assert pages[2]["next_cursor"] is None
    assert pages[0]["next_cursor"] is not None


def test_exactly_full_last_page_has_no_next_cursor(world, get):
    body = get("/images", per_page=4, page=2).get_json()
    assert names(world, body) == ["i5", "i6", "i7", "i8"]
    assert body["next_cursor"] is None


def test_page_past_the_end_is_empty_with_the_total(world, get):
    body = get("/images", per_page=3, page=4).get_json()
    assert body == {"items": [], "total": 8, "page": 4, "per_page": 3, "next_cursor": None}


def test_per_page_bounds(world, get):
    assert len(get("/images", per_page=1000).get_json()["items"]) == 8
    for value in (1001, 0, -1):
        response = get("/images", per_page=value)
        assert response.status_code == 400
        assert list(response.get_json()["errors"]) == ["per_page"]


def test_cursor_continues_where_the_page_ended(world, get):
    first = get("/images", per_page=3).get_json()
    second = get("/images", per_page=3, cursor=first["next_cursor"]).get_json()
    assert names(world, second) == ["i4", "i5", "i6"]
    assert (second["page"], second["total"]) == (None, 8)


@pytest.mark.parametrize("path", ["/images", "/subjects", "/visits", "/datasets"])
def test_total_false_skips_the_count_but_not_the_rows(world, get, path):
    counted = get(path, per_page=1).get_json()
    uncounted = get(path, per_page=1, total="false").get_json()
    assert uncounted["total"] is None
    assert {**uncounted, "total": counted["total"]} == counted
    following = get(path, per_page=1, total="false", cursor=uncounted["next_cursor"]).get_json()
    assert (following["total"], following["page"]) == (None, None)
    assert following["items"] == get(path, per_page=1, cursor=counted["next_cursor"]) \
        .get_json()["items"]


def test_total_must_be_a_boolean(world, get):
    response = get("/images", total="maybe")
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["total"]


@pytest.mark.parametrize("sort", [*IMAGE_SORTS, *(f"-{field}" for field in IMAGE_SORTS)])
def test_walking_by_cursor_gives_the_same_rows_as_one_page(world, get, sort):
    expected = names(world, get("/images", sort=sort, per_page=100).get_json())
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "per_page": 3, **({"cursor": cursor} if cursor else {})}
        body = get("/images", **params).get_json()
        seen += names(world, body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


@pytest.mark.parametrize("sort", ["id", "days_since_baseline", "-age_at_scan"])
def test_rows_inserted_while_paging_are_neither_skipped_nor_repeated(world, get, session, sort):
    ann = world.subjects["ann"]
    expected = names(world, get("/images", sort=sort, per_page=100).get_json())
    seen_ids, cursor, inserted = [], None, 0
    while True:
        params = {"sort": sort, "per_page": 2, **({"cursor": cursor} if cursor else {})}
        body = get("/images", **params).get_json()
        seen_ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        if inserted >= 4:  # rows sorting after the cursor would otherwise keep the walk going
            continue
        # Rows that sort before the cursor (day -1, age 69.99...) and after it.
        for day in (-1, 1000):
            make_image(session, subject=ann, visit=world.visits["a0"], type=ImageType.T1,
                       days_since_baseline=day, path=f"new/{inserted}.nii.gz")
            inserted += 1
        session.commit()
    original_ids = {world.id("images", name) for name in ALL_IMAGES}
    seen_original = [image_id for image_id in seen_ids if image_id in original_ids]
    assert world.names("images", seen_original) == expected
    assert len(seen_ids) == len(set(seen_ids))


def test_other_collections_page_the_same_way(world, get):
    first = get("/subjects", per_page=2, sort="-age_at_baseline").get_json()
    assert [item["external_id"] for item in first["items"]] == ["eve", "ann"]
    second = get("/subjects", per_page=2, sort="-age_at_baseline",
                 cursor=first["next_cursor"]).get_json()
    assert [item["external_id"] for item in second["items"]] == ["cat", "bob"]
    third = get("/subjects", per_page=2, sort="-age_at_baseline",
                cursor=second["next_cursor"]).get_json()
    assert ([item["external_id"] for item in third["items"]], third["next_cursor"]) == (
        ["dan"], None)
    visits = get("/visits", per_page=5, page=2).get_json()
    assert [item["external_id"] for item in visits["items"]] == ["d0", "e0"]
    assert visits["total"] == 7


def test_the_largest_page_is_empty_not_an_overflow(world, get):
    body = get("/images", page=1_000_000_000, per_page=1000).get_json()
    assert (body["items"], body["total"], body["page"]) == ([], 8, 1_000_000_000)


def test_largest_ids_are_404_and_beyond_them_too(world, get):
    assert get(f"/images/{2**31 - 1}").status_code == 404
    assert get(f"/images/{2**31}").status_code == 404
