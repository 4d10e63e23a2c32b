"""GET /subjects and /subjects/{id}: rows, every filter, CSV, detail with visits and images."""
import pytest

ALL_SUBJECTS = ["ann", "bob", "cat", "dan", "eve"]  # zed's dataset is soft-deleted


def subject_names(world, response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return world.names("subjects", [item["id"] for item in response.get_json()["items"]])


def test_list_returns_live_subjects_with_their_fields(world, get):
    body = get("/subjects").get_json()
    assert world.names("subjects", [item["id"] for item in body["items"]]) == ALL_SUBJECTS
    assert body["total"] == 5
    assert body["items"][0] == {
        "id": world.id("subjects", "ann"), "dataset": "ALPHA", "external_id": "ann",
        "sex": "female", "handedness": "right", "race": "white_non_latino",
        "education_years": 16.0, "age_at_baseline": 70.0, "condition": None,
        "conditions": ["AD", "HC"],  # by her visits a1 and a0, in master-list order
    }
    assert body["items"][2]["condition"] == "HC"
    # Own and visits' conditions alike; none for subjects with neither.
    assert [item["conditions"] for item in body["items"]] == [
        ["AD", "HC"], [], ["HC"], [], ["AD", "HC"]]


@pytest.mark.parametrize(("params", "expected"), [
    ({"dataset": "BETA"}, ["cat", "dan", "eve"]),
    ({"dataset": ["ALPHA", "BETA"]}, ALL_SUBJECTS),
    ({"condition": "AD"}, ["ann", "eve"]),  # by their visits a1 and e0
    ({"condition": "HC"}, ["ann", "cat", "eve"]),  # eve: her own HC, her visit's AD
    ({"condition": "hc"}, ["ann", "cat", "eve"]),  # designations match in any case
    ({"sex": "female"}, ["ann", "cat", "eve"]),
    ({"sex": "male"}, ["bob"]),
    ({"age_min": 60}, ["ann", "cat", "eve"]),
    ({"age_max": 62.5}, ["bob", "cat"]),
    ({"age_min": 56, "age_max": 79.9}, ["ann", "cat"]),
    ({"has_type": "T1"}, ["ann", "bob", "cat", "eve"]),  # ann's deleted i9 does not count
    ({"has_type": "DWI"}, ["ann"]),
    ({"has_type": ["T1", "rsfMRI"]}, ["cat"]),  # every listed type
    ({"has_type": "FieldMap"}, ["dan"]),
    ({"has_type": "T1", "sex": "female", "condition": "HC", "dataset": "BETA"}, ["cat", "eve"]),
])
def test_filters_return_exactly_the_matching_subjects(world, get, params, expected):
    response = get("/subjects", **params)
    assert subject_names(world, response) == expected
    assert response.get_json()["total"] == len(expected)
    if "condition" in params:  # a condition filter's matches show it in their row
        wanted = {"AD": "AD", "HC": "HC", "hc": "HC"}[params["condition"]]
        assert all(wanted in item["conditions"] for item in response.get_json()["items"])


def test_condition_of_a_subject_without_visits_is_its_own(world, get, session):
    from tests.support.factories import make_subject

    make_subject(session, dataset=world.datasets["ALPHA"], external_id="solo",
                 condition=world.conditions["AD"])
    session.commit()
    items = get("/subjects", condition="AD").get_json()["items"]
    assert [item["external_id"] for item in items] == ["ann", "eve", "solo"]


@pytest.mark.parametrize(("sort", "expected"), [
    ("-age_at_baseline", ["eve", "ann", "cat", "bob", "dan"]),
    ("external_id", ["ann", "bob", "cat", "dan", "eve"]),
    ("-dataset", ["cat", "dan", "eve", "ann", "bob"]),
    ("sex", ["ann", "cat", "eve", "bob", "dan"]),
])
def test_sort(world, get, sort, expected):
    assert subject_names(world, get("/subjects", sort=sort)) == expected


def test_csv_is_the_whole_filtered_result(world, get):
    response = get("/subjects", format="csv", dataset="BETA", per_page=1, page=2)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    cat, dan, eve = (world.id("subjects", name) for name in ("cat", "dan", "eve"))
    assert response.get_data(as_text=True) == (
        "id,dataset,external_id,sex,handedness,race,education_years,age_at_baseline,condition,"
        "conditions\n"
        f"{cat},BETA,cat,female,unknown,undefined,,62.5,HC,HC\n"
        f"{dan},BETA,dan,unknown,unknown,undefined,,,,\n"
        f"{eve},BETA,eve,female,unknown,undefined,,80.0,HC,AD; HC\n"
    )


def test_detail_has_visits_by_day_and_images_by_id(world, get):
    body = get(f"/subjects/{world.id('subjects', 'ann')}").get_json()
    assert (body["external_id"], body["metadata_json"]) == ("ann", None)
    assert [visit["external_id"] for visit in body["visits"]] == ["a0", "a1"]
    assert [visit["condition"] for visit in body["visits"]] == ["HC", "AD"]
    assert world.names("images", [image["id"] for image in body["images"]]) == ["i1", "i2", "i3"]
    assert body["images"][1]["type"] == "DWI"


def test_detail_of_a_missing_or_deleted_subject_is_404(world, get):
    for subject_id in (world.id("subjects", "zed"), world.id("subjects", "zed") + 1000):
        response = get(f"/subjects/{subject_id}")
        assert response.status_code == 404
        assert response.get_json()["message"] == f"no subject with id {subject_id}"
