"""A measure-filtered total and /stats count image_measure's rows alone (app/query/images.py,
matching_images), so what hides an image must hide its rows there too: a blacklisted image, a
soft-deleted image, a withdrawn subject and a key granted one dataset leave the filtered counts
exactly as they leave the unfiltered ones, on both databases."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func

from app.models import ImageMeasure, ImageType, QcState, Scope
from app.models.base import utcnow
from app.query.images import image_filters, matching_images
from tests.support.factories import (
    bearer,
    make_api_key,
    make_assessment,
    make_dataset,
    make_image,
    make_measure,
    make_subject,
    make_visit,
)

API = "/api/v1"
FILTER = "SCORE<22"
# The scene: subject -> (dataset, its SCORE at its one visit); each subject has a T1 and a DWI.
SCENE = {"s1": ("A", 10.0), "s2": ("A", 20.0), "s3": ("A", 30.0),
         "s4": ("B", 15.0), "s5": ("B", 25.0)}
TYPES = (ImageType.T1, ImageType.DWI)


def expected(hidden: set[tuple[str, str]], withdrawn: set[str],
             datasets: set[str] | None = None) -> dict[str, dict[str, int]]:
    """{"all" | "filtered": {"images", "subjects"}} from the scene, written out here: the images
    not hidden, of subjects not withdrawn, in `datasets` (every one without it); filtered, those
    whose subject's SCORE is below 22."""
    shown = [(subject, kind.value) for subject, (dataset, _score) in SCENE.items()
             for kind in TYPES if (subject, kind.value) not in hidden
             and subject not in withdrawn and (datasets is None or dataset in datasets)]
    filtered = [(subject, kind) for subject, kind in shown if SCENE[subject][1] < 22]
    return {name: {"images": len(rows), "subjects": len({subject for subject, _ in rows})}
            for name, rows in (("all", shown), ("filtered", filtered))}


def counts(client, token: str, **params: Any) -> dict[str, dict[str, int]]:
    """The same counts as the API gives them: /images' total and /stats' images and subjects,
    without and with the measure filter."""
    found = {}
    for name, extra in (("all", {}), ("filtered", {"measure": FILTER})):
        query = {**params, **extra}
        images = client.get(f"{API}/images", query_string={**query, "per_page": 1},
                            headers=bearer(token))
        stats = client.get(f"{API}/stats", query_string=query, headers=bearer(token))
        assert images.status_code == 200 and stats.status_code == 200
        assert images.get_json()["total"] == stats.get_json()["images"]
        found[name] = {"images": stats.get_json()["images"],
                       "subjects": stats.get_json()["subjects"]}
    return found


def test_what_hides_an_image_hides_it_from_a_measure_filtered_total(app, client, session):
    score = make_measure(session, designation="SCORE")
    datasets = {name: make_dataset(session, designation=f"TOTALS_{name}") for name in "AB"}
    subjects, images = {}, {}
    for name, (dataset, value) in SCENE.items():
        subject = subjects[name] = make_subject(session, dataset=datasets[dataset],
                                                external_id=name)
        visit = make_visit(session, subject=subject, days_since_baseline=0)
        make_assessment(session, visit=visit, measure=score, value=value)
        for kind in TYPES:
            images[name, kind.value] = make_image(session, subject=subject, visit=visit,
                                                  type=kind)
    session.commit()
    _, token = make_api_key(session, name="everything")
    session.commit()

    # The total is read from image_measure alone: the image table is not in it.
    with app.test_request_context():
        statement = matching_images(image_filters({"measure": [FILTER]}), func.count())
    assert statement.get_final_froms() == [ImageMeasure.__table__]

    hidden: set[tuple[str, str]] = set()
    withdrawn: set[str] = set()
    assert counts(client, token) == expected(hidden, withdrawn) == {
        "all": {"images": 10, "subjects": 5}, "filtered": {"images": 6, "subjects": 3}}

    # Each change goes through the ORM, as a QC review, a deletion or a withdrawal does.
    images["s1", "T1"].qc_state = QcState.BLACKLISTED
    hidden.add(("s1", "T1"))
    session.commit()
    assert counts(client, token) == expected(hidden, withdrawn) == {
        "all": {"images": 9, "subjects": 5}, "filtered": {"images": 5, "subjects": 3}}
    # Asked for, the blacklisted image counts again, filtered or not.
    assert counts(client, token, qc="all") == expected(set(), withdrawn)

    images["s2", "DWI"].deleted_at = utcnow()
    hidden.add(("s2", "DWI"))
    session.commit()
    assert counts(client, token) == expected(hidden, withdrawn) == {
        "all": {"images": 8, "subjects": 5}, "filtered": {"images": 4, "subjects": 3}}

    subjects["s4"].deleted_at = utcnow()
    withdrawn.add("s4")
    session.commit()
    assert counts(client, token) == expected(hidden, withdrawn) == {
        "all": {"images": 6, "subjects": 4}, "filtered": {"images": 2, "subjects": 2}}

    for granted, figures in (("A", {"all": {"images": 4, "subjects": 3},
                                    "filtered": {"images": 2, "subjects": 2}}),
                             ("B", {"all": {"images": 2, "subjects": 1},
                                    "filtered": {"images": 0, "subjects": 0}})):
        _, restricted = make_api_key(session, scopes=[Scope.READ],
                                     datasets=[datasets[granted]])
        session.commit()
        assert counts(client, restricted) == expected(hidden, withdrawn, {granted}) == figures
        # The other filters beside the measure's are read from the copies too.
        assert counts(client, restricted, type="T1") == expected(
            hidden | {(name, "DWI") for name in SCENE}, withdrawn, {granted})
