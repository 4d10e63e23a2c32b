"""Against the bundled example data, the API returns exactly what a direct SQL query returns."""
from sqlalchemy import text

from tests.support.examples import flask_load

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
      AND subject.age_at_baseline + image.days_since_baseline / 365.25 BETWEEN 60 AND 80
      AND condition.designation = :condition
      AND image.deleted_at IS NULL AND subject.deleted_at IS NULL AND dataset.deleted_at IS NULL
    ORDER BY image.id
""")


def test_t1_of_women_aged_60_to_80_with_alzheimers_matches_sql(app, session, get):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    for designation in ("OASIS", "OpenPain", "HCP"):
        result = flask_load(app, designation)
        assert result.exit_code == 0, result.output
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
