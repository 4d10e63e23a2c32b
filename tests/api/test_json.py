"""The API never writes invalid JSON: NaN and Infinity in stored values come out as null."""
import json
import math

from app.access.auth import create_api_key
from app.api.json import without_non_finite
from app.extensions import db
from tests.support.apps import make_app
from tests.support.factories import make_image, make_subject, make_visit


def strict_json(response) -> object:
    """Parse a response as strict JSON (Python's parser accepts bare NaN unless told not to)."""
    def refuse(constant: str) -> None:
        raise AssertionError(f"invalid JSON constant {constant}")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def test_without_non_finite_replaces_nan_and_infinities_at_any_depth():
    value = {"a": math.nan, "b": [1.5, math.inf, {"c": -math.inf}], "d": "NaN", "e": (2, math.nan)}
    assert without_non_finite(value) == {"a": None, "b": [1.5, None, {"c": None}], "d": "NaN",
                                         "e": [2, None]}


def test_nan_in_stored_metadata_is_null(tmp_path):
    # SQLite's JSON keeps NaN as written by a loader; PostgreSQL's JSONB refuses it on the way in.
    app = make_app(f"sqlite:///{tmp_path / 'mbid.db'}")
    with app.app_context():
        db.create_all()
        image = make_image(db.session, metadata_json={
            "RepetitionTime": math.nan, "EchoTime": [0.01, math.inf], "FlipAngle": -math.inf,
            "SliceTiming": [0.0, 0.5]})
        _, token = create_api_key("json")
        db.session.commit()
        response = app.test_client().get(f"/api/v1/images/{image.id}",
                                         headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert strict_json(response)["metadata_json"] == {
            "RepetitionTime": None, "EchoTime": [0.01, None], "FlipAngle": None,
            "SliceTiming": [0.0, 0.5]}
        db.session.remove()
        db.engine.dispose()


def test_infinite_stored_numbers_are_null_in_json_and_empty_in_csv(session, get):
    # Both databases store an infinite float; PostgreSQL stores NaN too.
    subject = make_subject(session, age_at_baseline=math.inf, education_years=-math.inf)
    visit = make_visit(session, subject=subject, days_since_baseline=10, bmi=math.inf)
    make_image(session, subject=subject, visit=visit, days_since_baseline=None)
    session.commit()
    subjects = get("/subjects")
    assert strict_json(subjects)["items"][0]["age_at_baseline"] is None
    assert strict_json(subjects)["items"][0]["education_years"] is None
    visits = strict_json(get("/visits"))["items"]
    assert (visits[0]["age_at_visit"], visits[0]["bmi"]) == (None, None)
    images = strict_json(get("/images"))["items"]
    assert images[0]["age_at_scan"] is None
    assert strict_json(get("/stats"))["images"] == 1
    row = get("/visits", format="csv").get_data(as_text=True).splitlines()[1]
    assert row.endswith(",10,,unknown,,")
