"""GET /visits and /visits/{id}: rows, every filter, CSV, detail with images."""
import pytest

from tests.support.world import age

ALL_VISITS = ["a0", "a1", "b0", "c0", "c1", "d0", "e0"]


def visit_names(world, response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return world.names("visits", [item["id"] for item in response.get_json()["items"]])


def test_list_returns_visits_with_age_at_visit_and_resolved_condition(world, get):
    body = get("/visits").get_json()
    assert world.names("visits", [item["id"] for item in body["items"]]) == ALL_VISITS
    assert body["total"] == 7
    assert body["items"][6] == {
        "id": world.id("visits", "e0"), "dataset": "BETA",
        "subject_id": world.id("subjects", "eve"), "subject_external_id": "eve",
        "external_id": "e0", "days_since_baseline": 100, "age_at_visit": age(80.0, 100),
        "sex": "female", "condition": "AD", "bmi": None,
    }
    assert [item["condition"] for item in body["items"]] == [
        "HC", "AD", None, "HC", "HC", None, "AD"]
    assert body["items"][5]["age_at_visit"] is None


@pytest.mark.parametrize(("params", "expected"), [
    ({"dataset": "ALPHA"}, ["a0", "a1", "b0"]),
    ({"condition": "HC"}, ["a0", "c0", "c1"]),
    ({"condition": "AD"}, ["a1", "e0"]),
    ({"condition": ["AD", "HC"]}, ["a0", "a1", "c0", "c1", "e0"]),
    ({"sex": "male"}, ["b0"]),
    ({"age_min": 60, "age_max": 75}, ["a0", "a1", "c0", "c1"]),
    ({"age_min": age(62.5, 365)}, ["a0", "a1", "c1", "e0"]),
    ({"days_min": 100}, ["a1", "c1", "e0"]),
    ({"days_max": 99}, ["a0", "b0", "c0", "d0"]),
    ({"dataset": "BETA", "sex": "female", "days_min": 1}, ["c1", "e0"]),
])
def test_filters_return_exactly_the_matching_visits(world, get, params, expected):
    response = get("/visits", **params)
    assert visit_names(world, response) == expected
    assert response.get_json()["total"] == len(expected)


@pytest.mark.parametrize(("sort", "expected"), [
    ("-days_since_baseline", ["a1", "c1", "e0", "a0", "b0", "c0", "d0"]),
    ("age_at_visit", ["b0", "c0", "c1", "a0", "a1", "e0", "d0"]),
    ("-external_id", ["e0", "d0", "c1", "c0", "b0", "a1", "a0"]),
])
def test_sort(world, get, sort, expected):
    assert visit_names(world, get("/visits", sort=sort)) == expected


def test_csv_is_the_whole_filtered_result(world, get):
    response = get("/visits", format="csv", condition="HC")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    ann, cat = world.id("subjects", "ann"), world.id("subjects", "cat")
    a0, c0, c1 = (world.id("visits", name) for name in ("a0", "c0", "c1"))
    assert response.get_data(as_text=True) == (
        "id,dataset,subject_id,subject_external_id,external_id,days_since_baseline,"
        "age_at_visit,sex,condition,bmi\n"
        f"{a0},ALPHA,{ann},ann,a0,0,70.0,female,HC,22.5\n"
        f"{c0},BETA,{cat},cat,c0,0,62.5,female,HC,\n"
        f"{c1},BETA,{cat},cat,c1,365,{age(62.5, 365)},female,HC,\n"
    )


def test_detail_has_symptoms_and_images(world, get):
    body = get(f"/visits/{world.id('visits', 'a0')}").get_json()
    assert (body["external_id"], body["symptoms"], body["condition"]) == ("a0", {"mmse": 29}, "HC")
    assert world.names("images", [image["id"] for image in body["images"]]) == ["i1", "i2"]


def test_detail_of_a_missing_visit_is_404(world, get):
    missing = world.id("visits", "e0") + 1000
    response = get(f"/visits/{missing}")
    assert response.status_code == 404
    assert response.get_json()["message"] == f"no visit with id {missing}"
