"""Against the bundled example data, the API returns exactly what a direct SQL query returns."""
import pytest
from sqlalchemy import text

from tests.support.examples import load_examples

ALZHEIMER = "Alzheimer's Disease"

# Written independently of the API's query builder, straight from the rules in DESIGN.md.
T1_WOMEN_60_TO_80_WITH_AD = text("""
    SELECT image.id
    FROM image
    JOIN subject ON subject.id = image.subject_id
    JOIN dataset ON dataset.id = image.dataset_id
    LEFT JOIN visit ON visit.id = image.visit_id
    JOIN condition ON condition.id = COALESCE(visit.condition_id, subject.condition_id)
    WHERE image.type = 'T1' AND subject.sex = 'female'
      AND subject.age_at_baseline
          + COALESCE(image.days_since_baseline, visit.days_since_baseline) / 365.25
          BETWEEN 60 AND 80
      AND condition.designation = :condition
      AND image.deleted_at IS NULL AND subject.deleted_at IS NULL AND dataset.deleted_at IS NULL
    ORDER BY image.id
""")


# Every image whose age at scan can be known, with that age, straight from the tables.
KNOWABLE_AGES = text("""
    SELECT image.id,
           subject.age_at_baseline
             + COALESCE(image.days_since_baseline, visit.days_since_baseline) / 365.25
    FROM image
    JOIN subject ON subject.id = image.subject_id
    JOIN dataset ON dataset.id = image.dataset_id
    LEFT JOIN visit ON visit.id = image.visit_id
    WHERE dataset.designation = :dataset AND subject.age_at_baseline IS NOT NULL
      AND COALESCE(image.days_since_baseline, visit.days_since_baseline) IS NOT NULL
    ORDER BY image.id
""")
# Images of each example dataset (README), and how many of them have a knowable age (the rest
# lack the subject's age or any day).
IMAGES = {"OASIS": 23, "OpenPain": 46, "HCP": 11}
AGED = {"OASIS": 22, "OpenPain": 44, "HCP": 11}


def test_every_image_with_a_known_age_and_day_has_an_age_at_scan(app, session, get):
    load_examples(app)
    for dataset, images in IMAGES.items():
        expected = dict(session.execute(KNOWABLE_AGES, {"dataset": dataset}).all())
        body = get("/images", dataset=dataset, per_page=1000).get_json()
        assert body["total"] == images
        ages = {item["id"]: item["age_at_scan"] for item in body["items"]}
        assert {id_: age for id_, age in ages.items() if age is not None} == pytest.approx(
            expected), dataset
        assert len(expected) == AGED[dataset], dataset
        csv_ages = get("/images", dataset=dataset, format="csv").get_data(as_text=True)
        assert len(csv_ages.splitlines()) == images + 1

    # HCP: every subject has an age band and every image a visit with a day.
    hcp = dict(session.execute(KNOWABLE_AGES, {"dataset": "HCP"}).all())
    assert len(hcp) == IMAGES["HCP"]
    aged_20_to_40 = sorted(id_ for id_, age in hcp.items() if 20 <= age <= 40)
    body = get("/images", dataset="HCP", age_min=20, age_max=40, per_page=1000).get_json()
    assert [item["id"] for item in body["items"]] == aged_20_to_40
    assert body["total"] == len(aged_20_to_40) == 11
    # The same rule in /stats, in sorting, and for the lower-case designation.
    assert get("/stats", dataset="hcp", age_min=20, age_max=40).get_json()["images"] == 11
    by_age = get("/images", dataset="HCP", sort="-age_at_scan", per_page=1000).get_json()
    ages = [item["age_at_scan"] for item in by_age["items"]]
    assert ages == sorted(ages, reverse=True) and None not in ages


def test_t1_of_women_aged_60_to_80_with_alzheimers_matches_sql(app, session, get):
    load_examples(app)
    expected = session.scalars(T1_WOMEN_60_TO_80_WITH_AD, {"condition": ALZHEIMER}).all()
    assert expected  # the example data holds such images, so the comparison means something

    response = get("/images", type="T1", sex="female", age_min=60, age_max=80,
                   condition=ALZHEIMER, per_page=1000)
    body = response.get_json()
    assert response.status_code == 200, body
    assert [item["id"] for item in body["items"]] == expected
    assert body["total"] == len(expected)
    assert {(item["type"], item["sex"], item["condition"]) for item in body["items"]} == {
        ("T1", "female", ALZHEIMER)}
    assert all(60 <= item["age_at_scan"] <= 80 for item in body["items"])

    stats = get("/stats", type="T1", sex="female", age_min=60, age_max=80,
                condition=ALZHEIMER).get_json()
    assert stats["images"] == len(expected)

    # The subjects matched by a condition show it in their row, in JSON and in CSV.
    subjects = get("/subjects", condition=ALZHEIMER.lower(), per_page=1000).get_json()["items"]
    assert subjects and all(ALZHEIMER in item["conditions"] for item in subjects)
    csv_rows = get("/subjects", condition=ALZHEIMER, format="csv").get_data(as_text=True)
    assert len(csv_rows.splitlines()) == len(subjects) + 1
    assert all(ALZHEIMER in line for line in csv_rows.splitlines()[1:])
