"""GET /images and /images/{id}: rows, every filter, sorting, CSV, detail."""
import csv
import io

import pytest
from sqlalchemy import select

from app.models import Condition, Dataset, Image, Visit
from load_db.OMIDB.example import CLIENTS, sop_uid, study_uid
from tests.support.examples import flask_load
from tests.support.world import ALL_IMAGES, age


def image_names(world, response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return world.names("images", [item["id"] for item in response.get_json()["items"]])


def test_list_returns_every_live_image_with_its_fields(world, get):
    response = get("/images")
    body = response.get_json()
    assert image_names(world, response) == ALL_IMAGES  # i9 is soft-deleted
    assert (body["total"], body["page"], body["per_page"], body["next_cursor"]) == (8, 1, 50, None)
    assert body["items"][2] == {
        "id": world.id("images", "i3"),
        "dataset": "ALPHA",
        "subject_id": world.id("subjects", "ann"),
        "subject_external_id": "ann",
        "visit_id": world.id("visits", "a1"),
        "type": "T1",
        "path": "ALPHA/ann/i3.nii.gz",
        "file_size": 1003,
        "checksum": None,
        "days_since_baseline": 730,
        "age_at_scan": age(70.0, 730),
        "sex": "female",
        "condition": "AD",
        "age_basis": "session",
        "scanner_id": world.id("scanners", "siemens3"),
        "manufacturer": "Siemens",
        "field_strength": 3.0,
        "preprocessed": "none",
        "qc_state": "new",
    }
    unknown = body["items"][6]
    assert (unknown["visit_id"], unknown["scanner_id"], unknown["manufacturer"],
            unknown["field_strength"], unknown["age_at_scan"], unknown["condition"],
            unknown["days_since_baseline"], unknown["age_basis"]) == (None,) * 8


@pytest.mark.parametrize(("params", "expected"), [
    ({"dataset": "ALPHA"}, ["i1", "i2", "i3", "i4"]),
    ({"dataset": ["ALPHA", "BETA"]}, ALL_IMAGES),
    ({"condition": "AD"}, ["i3", "i8"]),  # i8: eve is HC, but her visit says AD and wins
    ({"condition": "HC"}, ["i1", "i2", "i5", "i6"]),  # i5, i6: cat's visits have none: hers
    ({"condition": ["AD", "HC"]}, ["i1", "i2", "i3", "i5", "i6", "i8"]),
    ({"type": "T1"}, ["i1", "i3", "i4", "i6", "i8"]),
    ({"type": ["DWI", "FieldMap"]}, ["i2", "i7"]),
    ({"type": "rsfMRI"}, ["i5"]),
    ({"sex": "female"}, ["i1", "i2", "i3", "i5", "i6", "i8"]),
    ({"sex": "unknown"}, ["i7"]),
    ({"sex": "other"}, []),
    ({"age_min": 60, "age_max": 75}, ["i1", "i2", "i3", "i5", "i6"]),
    ({"age_min": 80}, ["i8"]),
    ({"age_max": 62.5}, ["i4", "i6"]),  # bounds are inclusive; unknown ages never match
    ({"age_min": 63.49, "age_max": 63.5}, ["i5"]),  # 62.5 + 365 / 365.25
    ({"days_min": 100}, ["i3", "i5", "i8"]),
    ({"days_max": 0}, ["i1", "i2", "i4", "i6"]),
    ({"days_min": 100, "days_max": 365}, ["i5", "i8"]),
    ({"field_strength": 1.5}, ["i2", "i4"]),
    ({"field_strength": 3}, ["i1", "i3", "i5", "i6", "i8"]),
    ({"manufacturer": "siemens"}, ["i1", "i3"]),
    ({"manufacturer": "PHILIPS"}, ["i5", "i6", "i8"]),
    ({"type": "T1", "sex": "female", "age_min": 60, "age_max": 80, "condition": "AD"}, ["i3"]),
    ({"dataset": "BETA", "type": "T1", "field_strength": 3}, ["i6", "i8"]),
])
def test_filters_return_exactly_the_matching_images(world, get, params, expected):
    response = get("/images", **params)
    assert image_names(world, response) == expected
    assert response.get_json()["total"] == len(expected)


@pytest.mark.parametrize(("sort", "expected"), [
    ("-id", ["i8", "i7", "i6", "i5", "i4", "i3", "i2", "i1"]),
    ("days_since_baseline", ["i1", "i2", "i4", "i6", "i8", "i5", "i3", "i7"]),
    ("-days_since_baseline", ["i3", "i5", "i8", "i1", "i2", "i4", "i6", "i7"]),
    ("age_at_scan", ["i4", "i6", "i5", "i1", "i2", "i3", "i8", "i7"]),
    ("-age_at_scan", ["i8", "i3", "i1", "i2", "i5", "i6", "i4", "i7"]),
    ("type", ["i2", "i7", "i1", "i3", "i4", "i6", "i8", "i5"]),
    ("-dataset", ["i5", "i6", "i7", "i8", "i1", "i2", "i3", "i4"]),
    ("subject_id", ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]),
    ("-file_size", ["i8", "i7", "i6", "i5", "i4", "i3", "i2", "i1"]),
])
def test_sort_orders_by_the_field_then_id_with_unknown_values_last(world, get, sort, expected):
    assert image_names(world, get("/images", sort=sort)) == expected


def test_csv_streams_every_matching_row_with_the_json_field_names(world, get):
    response = get("/images", format="csv", dataset="ALPHA", sort="-days_since_baseline",
                   per_page=1)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="images.csv"'
    ids = {name: world.id("images", name) for name in ("i1", "i2", "i3", "i4")}
    ann, bob = world.id("subjects", "ann"), world.id("subjects", "bob")
    a0, a1, b0 = (world.id("visits", name) for name in ("a0", "a1", "b0"))
    siemens, ge = world.id("scanners", "siemens3"), world.id("scanners", "ge15")
    assert response.get_data(as_text=True) == (
        "id,dataset,subject_id,subject_external_id,visit_id,type,path,file_size,checksum,"
        "days_since_baseline,age_at_scan,sex,condition,age_basis,scanner_id,manufacturer,"
        "field_strength,preprocessed,qc_state\n"
        f"{ids['i3']},ALPHA,{ann},ann,{a1},T1,ALPHA/ann/i3.nii.gz,1003,,730,{age(70.0, 730)},"
        f"female,AD,session,{siemens},Siemens,3.0,none,new\n"
        f"{ids['i1']},ALPHA,{ann},ann,{a0},T1,ALPHA/ann/i1.nii.gz,1001,c1,0,70.0,female,HC,"
        f"session,{siemens},Siemens,3.0,none,new\n"
        f"{ids['i2']},ALPHA,{ann},ann,{a0},DWI,ALPHA/ann/i2.nii.gz,1002,,0,70.0,female,HC,"
        f"session,{ge},GE,1.5,none,new\n"
        f"{ids['i4']},ALPHA,{bob},bob,{b0},T1,ALPHA/bob/i4.nii.gz,1004,,0,55.0,male,,session,"
        f"{ge},GE,1.5,none,new\n"
    )


def test_csv_header_equals_the_json_fields_and_holds_the_whole_result(world, get):
    rows = list(csv.DictReader(io.StringIO(get("/images", format="csv").get_data(as_text=True))))
    json_items = get("/images").get_json()["items"]
    assert list(rows[0]) == list(get("/images", per_page=1).get_json()["items"][0])
    assert [int(row["id"]) for row in rows] == [item["id"] for item in json_items]
    assert len(rows) == 8


def test_csv_of_an_empty_result_is_the_header_alone(world, get):
    text = get("/images", format="csv", sex="other").get_data(as_text=True)
    assert text.count("\n") == 1 and text.startswith("id,dataset,")


def test_detail_adds_metadata_and_scanner(world, get):
    response = get(f"/images/{world.id('images', 'i1')}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["path"], body["metadata_json"], body["scanner_model"], body["scanner_serial"],
            body["condition"], body["age_at_scan"]) == (
        "ALPHA/ann/i1.nii.gz", {"RepetitionTime": 2.3}, "Prisma", "S1", "HC", 70.0)


def test_detail_of_a_missing_or_deleted_image_is_404(world, get):
    for image_id in (world.id("images", "i9"), world.id("images", "i9") + 1000):
        response = get(f"/images/{image_id}")
        assert response.status_code == 404
        assert response.get_json() == {"status": 404, "error": "Not Found",
                                       "message": f"no image with id {image_id}"}


def test_an_image_without_a_day_of_its_own_takes_its_visits(world, session, get):
    from tests.support.factories import make_image

    # cat's second visit c1 is on day 365; the image itself carries no day (as in BIDS).
    undated = make_image(session, subject=world.subjects["cat"], visit=world.visits["c1"],
                         days_since_baseline=None, path="cat/undated.nii.gz")
    session.commit()
    world.images["undated"] = undated
    row = get(f"/images/{undated.id}").get_json()
    assert (row["days_since_baseline"], row["age_at_scan"]) == (365, age(62.5, 365))
    # The same day and age in the filters, the sort, /stats and the CSV.
    for params in ({"days_min": 365, "days_max": 365}, {"age_min": 63.49, "age_max": 63.5}):
        assert image_names(world, get("/images", **params)) == [
            "i5", "undated"]
    ordered = get("/images", dataset="BETA", sort="-age_at_scan").get_json()["items"]
    assert [item["id"] for item in ordered][:3] == [
        world.id("images", "i8"), world.id("images", "i5"), undated.id]
    assert get("/stats", age_min=63.49, age_max=63.5).get_json()["images"] == 2
    csv_text = get("/images", format="csv", days_min=365, days_max=365).get_data(as_text=True)
    assert f"{undated.id},BETA," in csv_text and f",365,{age(62.5, 365)},female," in csv_text


# --- mammograms: the OMI-DB example through the image filters ------------------------------

def _omidb_paths(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {item["path"] for item in response.get_json()["items"]}


def _marked_left_images_of_malignant_episodes(session) -> set[str]:
    """Straight from the tables: images of OMI-DB visits whose episode was malignant, then
    their metadata read in Python (not through the API's JSON expressions)."""
    rows = session.execute(
        select(Image.path, Image.metadata_json)
        .join(Dataset, Dataset.id == Image.dataset_id)
        .join(Visit, Visit.id == Image.visit_id)
        .join(Condition, Condition.id == Visit.condition_id)
        .where(Dataset.designation == "OMI-DB", Condition.designation == "Breast Cancer"))
    return {path for path, metadata in rows
            if metadata["has_marks"] and metadata["ImageLaterality"] == "L"}


def test_marked_left_mammograms_of_malignant_episodes(app, seeded, get):
    assert flask_load(app, "OMI-DB").exit_code == 0
    client = CLIENTS[0]   # optm1: malignant on the left at her second study
    study = client.studies[1]
    folder = f"OMI-DB/images/{client.client}/{study_uid(client, study)}"
    expected = {f"{folder}/{sop_uid(client, study, view, 'L')}.dcm" for view in ("CC", "MLO")}
    response = get("/images", dataset="OMI-DB", condition="Breast Cancer", has_marks="true",
                   laterality="L")
    assert _omidb_paths(response) == _marked_left_images_of_malignant_episodes(seeded) \
        == expected
    assert response.get_json()["items"][0]["type"] == "Mammogram"


@pytest.mark.parametrize(("params", "total"), [
    ({"type": "Mammogram"}, 32),
    ({"has_marks": "true"}, 5),
    ({"has_marks": "false"}, 27),
    ({"laterality": "r"}, 16),                  # any case, as every value
    ({"view": "mlo"}, 16),                      # ignoring case
    ({"view": ["CC", "MLO"], "laterality": "L", "has_marks": "true"}, 3),
    ({"condition": "Interval Breast Cancer", "has_marks": "true"}, 1),
    ({"condition": "Normal Breast Screening"}, 20),
    ({"laterality": "B"}, 0),
])
def test_mammography_filters_count_the_example(app, seeded, get, params, total):
    assert flask_load(app, "OMI-DB").exit_code == 0
    assert get("/images", **params).get_json()["total"] == total
    stats = get("/stats", **params).get_json()
    assert stats["images"] == total


@pytest.mark.parametrize(("params", "name"), [
    ({"laterality": "left"}, "laterality"), ({"has_marks": "maybe"}, "has_marks"),
    ({"view": ""}, "view")])
def test_bad_mammography_filters_are_400_naming_them(world, get, params, name):
    response = get("/images", **params)
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == [name]


def test_mammograms_are_counted_and_exported_like_every_type(app, seeded, get):
    assert flask_load(app, "OMI-DB").exit_code == 0
    text = get("/images", type="Mammogram", format="csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 32 and {row["type"] for row in rows} == {"Mammogram"}
    datasets = get("/datasets").get_json()["items"]
    omidb = next(item for item in datasets if item["designation"] == "OMI-DB")
    assert omidb["image_counts_by_type"] == {"T1": 0, "DWI": 0, "rsfMRI": 0, "FieldMap": 0,
                                             "Mammogram": 32}
    groups = get("/stats", dataset="OMI-DB").get_json()["groups"]
    assert {(g["type"], g["condition"]): g["images"] for g in groups} == {
        ("Mammogram", "Breast Cancer"): 4, ("Mammogram", "Benign Breast Lesion"): 4,
        ("Mammogram", "Interval Breast Cancer"): 4, ("Mammogram", "Normal Breast Screening"): 20}
    subjects = get("/subjects", has_type="Mammogram").get_json()["total"]
    assert subjects == 4
