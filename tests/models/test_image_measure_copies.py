"""image_measure's copies of its image's dataset, type, condition, sex and age at scan
(app/models/image_measure.py, COPIED) stay equal to what they copy, on both databases: after ORM
writes to a subject's sex, a visit's condition and an image's type, after a load that changed
only subjects, and after `flask harmonise`; and a measure filter that repeats the request's
other filters on them matches the same images."""
from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Condition, Image, ImageMeasure, ImageType, Sex, Subject, Visit
from app.query.images import image_filters, matching_images
from globals import DATA_DIR
from load_db.engine import load_frames
from load_db.OASIS.read import MAPPING
from tests.support.examples import flask_load
from tests.support.factories import (
    make_assessment,
    make_condition,
    make_dataset,
    make_image,
    make_measure,
    make_subject,
    make_visit,
)

DAYS_PER_YEAR = 365.25
MCI, DU = "Mild Cognitive Impairment", "Dementia Unspecified"
MCI_RULE = "- condition: Mild Cognitive Impairment\n      when: {cdr: {equals: 0.5}}"


def stored_copies(session) -> dict[tuple[int, int], tuple]:
    """{(image, measure): (dataset, type, condition, sex, age at scan)} as image_measure holds
    them."""
    session.flush()
    return {(row.image_id, row.measure_id): (row.dataset_id, row.type, row.search_condition_id,
                                             row.search_sex, row.search_age_at_scan)
            for row in session.execute(select(ImageMeasure.__table__))}


def sources(session) -> dict[int, tuple]:
    """{image: (dataset, type, condition, sex, age at scan)} computed here from the image, its
    subject and its visit (not from image's search columns): the visit's condition when known,
    else the subject's; the age on the image's own day, else its visit's."""
    rows = session.execute(
        select(Image.id, Image.dataset_id, Image.type, Image.days_since_baseline,
               Visit.condition_id, Visit.days_since_baseline.label("visit_day"),
               Subject.condition_id.label("subject_condition"), Subject.sex,
               Subject.age_at_baseline)
        .join(Subject, Subject.id == Image.subject_id)
        .outerjoin(Visit, Visit.id == Image.visit_id))
    expected = {}
    for row in rows:
        day = row.days_since_baseline if row.days_since_baseline is not None else row.visit_day
        age = (None if day is None or row.age_at_baseline is None
               else row.age_at_baseline + day / DAYS_PER_YEAR)
        condition = row.condition_id if row.condition_id is not None else row.subject_condition
        expected[row.id] = (row.dataset_id, str(row.type), condition,
                            None if row.sex is None else str(row.sex), age)
    return expected


def assert_copies_right(session) -> dict[tuple[int, int], tuple]:
    stored = stored_copies(session)
    assert stored, "some images have values"
    expected = sources(session)
    for (image, _measure), copies in stored.items():
        assert copies[:4] == expected[image][:4], image
        assert copies[4] == pytest.approx(expected[image][4]), image
    return stored


def matches(session, args: dict) -> list[int]:
    """The images matching `args`, counted as a total is (matching_images: the measure filter
    repeats the other filters on the copies), checked against the page's clauses."""
    clauses = image_filters(args)
    counted = matching_images(clauses, Image.id)
    assert "image_measure.search_sex" in str(counted), "the copies are read"
    found = sorted(session.scalars(counted))
    assert found == sorted(session.scalars(select(Image.id).where(*clauses)))
    return found


def test_the_copies_follow_orm_writes_and_filter_the_same_images(app, session):
    healthy, ill = (make_condition(session, designation=name) for name in ("Healthy", "Ill"))
    datasets = [make_dataset(session), make_dataset(session)]
    score = make_measure(session, designation="SCORE")
    images, visits, subjects = [], [], []
    for n in range(6):
        subject = make_subject(session, dataset=datasets[n % 2], age_at_baseline=50.0 + 3 * n,
                               sex=Sex.FEMALE if n % 2 else Sex.MALE, condition=ill)
        visit = make_visit(session, subject=subject, days_since_baseline=100 * n,
                           condition=healthy if n % 3 else None)
        subjects.append(subject)
        visits.append(visit)
        images += [make_image(session, subject=subject, visit=visit),
                   make_image(session, subject=subject, visit=visit, type=ImageType.DWI,
                              days_since_baseline=100 * n + 30)]
        make_assessment(session, visit=visit, measure=score, value=10 + 4 * n)
    before = assert_copies_right(session)
    assert len(before) == 12
    female_healthy_t1 = {"sex": "female", "type": ["T1"], "condition": ["Healthy"],
                         "measure": ["SCORE<30"]}
    assert matches(session, female_healthy_t1) == [images[2].id]

    subjects[2].sex = Sex.FEMALE
    visits[1].condition = None
    images[6].type = ImageType.DWI
    after = assert_copies_right(session)
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {(image.id, score.id) for image in images[2:7]}
    assert [after[(image.id, score.id)][3] for image in images[4:6]] == ["female", "female"]
    assert [after[(image.id, score.id)][2] for image in images[2:4]] == [ill.id, ill.id]
    assert after[(images[6].id, score.id)][1] == "DWI"
    assert matches(session, female_healthy_t1) == [images[4].id]
    # Subject 2 is 56 at baseline, its T1 lies on its visit's day 200: 56.55 years.
    assert matches(session, {**female_healthy_t1, "age_min": 56.5, "age_max": 56.6}) \
        == [images[4].id]
    assert matches(session, {**female_healthy_t1, "age_min": 56.6}) == []


def oasis_image_subjects(session) -> dict[int, str]:
    return dict(session.execute(select(Image.id, Subject.external_id)
                                .join(Subject, Subject.id == Image.subject_id)).all())


def test_the_copies_follow_a_load_of_subjects_and_harmonise(app, seeded, tmp_path):
    session = seeded
    assert flask_load(app, "OASIS").exit_code == 0
    stored = assert_copies_right(session)
    subject_of = oasis_image_subjects(session)
    # The sexes as OASIS's subjects file gives them (M/F), read here with pandas.
    demographics = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_subjects.csv")
    first = sorted(subject_of[image] for image, _measure in stored)[0]
    given = demographics.loc[demographics["Subject"] == first, "M/F"].item()
    assert {copies[3] for (image, _measure), copies in stored.items()
            if subject_of[image] == first} == {"female" if given == "F" else "male"}

    # A load of subjects alone: the engine writes no image, visit or assessment.
    flipped = "male" if given == "F" else "female"
    load_frames(session, "OASIS", subjects=pd.DataFrame({"external_id": [first],
                                                         "sex": [flipped]}))
    stored = assert_copies_right(session)
    assert {copies[3] for (image, _measure), copies in stored.items()
            if subject_of[image] == first} == {flipped}
    session.commit()

    # A changed CDR mapping: the visits with CDR 0.5 (read with pandas) become Dementia
    # Unspecified, and so do the copies of their images' rows.
    text = MAPPING.read_text()
    assert MCI_RULE in text
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text.replace(MCI_RULE, MCI_RULE.replace(MCI, DU)))
    result = app.test_cli_runner().invoke(args=["harmonise", "OASIS", "--mapping",
                                                str(mapping)])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(mapping.read_bytes()).hexdigest()[:12] in result.output
    db.session.expire_all()
    clinical = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv")
    half = set(clinical.loc[clinical["cdr"] == 0.5, "ADRC_ADRCCLINICALDATA ID"])
    at_half = set(session.scalars(select(Image.id).join(Visit, Visit.id == Image.visit_id)
                                  .where(Visit.external_id.in_(sorted(half)))))
    assert at_half, "some images lie at a CDR 0.5 visit"
    du = session.scalar(select(Condition.id).where(Condition.designation == DU))
    after = assert_copies_right(session)
    assert {copies[2] for (image, _measure), copies in after.items() if image in at_half} \
        == {du}
