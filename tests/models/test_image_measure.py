"""The measure read model (app/models/image_measure.py) equals the correlated path of
app/query/measures.py under the default window, on both databases: on generated worlds with
random days and values written through the ORM (its flush hook), after later ORM writes, after
a load and after `flask harmonise`."""
from __future__ import annotations

import dataclasses
import random

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Assessment, Image, ImageMeasure, Measure, MeasureKind
from app.models.image_measure import refresh_image_measures
from app.query.measures import (
    DEFAULT_WINDOW_DAYS,
    IMAGE_VALUES,
    KnownMeasure,
    counting_value,
    measure_clauses,
)
from load_db.OASIS.read import MAPPING
from tests.support.examples import flask_load
from tests.support.factories import (
    make_assessment,
    make_dataset,
    make_image,
    make_measure,
    make_subject,
    make_visit,
)

# The images' path when the read model is not used: the correlated subqueries.
CORRELATED = dataclasses.replace(IMAGE_VALUES, read_model=False)
LEVELS = ("left", "right", "ambidextrous")


def known(measure: Measure) -> KnownMeasure:
    return KnownMeasure(measure.id, measure.designation, MeasureKind(measure.kind),
                        bool(measure.per_subject))


def read_model() -> set[tuple]:
    """Every row of image_measure: (image, measure, value, day)."""
    return {(image, measure, number if text is None else text, day)
            for image, measure, number, text, day in db.session.execute(select(
                ImageMeasure.image_id, ImageMeasure.measure_id, ImageMeasure.value_number,
                ImageMeasure.value_text, ImageMeasure.day))}


def correlated() -> set[tuple]:
    """The value that counts for every image and measure by the correlated path, where one
    does."""
    rows = set()
    for measure in map(known, db.session.scalars(select(Measure))):
        statement = select(Image.id, counting_value(CORRELATED, measure, DEFAULT_WINDOW_DAYS),
                           counting_value(CORRELATED, measure, DEFAULT_WINDOW_DAYS,
                                          Assessment.days_since_baseline))
        rows |= {(image, measure.id, value, day)
                 for image, value, day in db.session.execute(statement) if value is not None}
    return rows


def filtered(row, text: str) -> list[int]:
    clauses = measure_clauses({"measure": [text]}, row)
    return list(db.session.scalars(select(Image.id).where(*clauses).order_by(Image.id)))


def assert_read_model_right(session) -> None:
    session.flush()
    expected = correlated()
    assert read_model() == expected
    assert expected, "the world gives some values"
    # The filters over it match the same images as the correlated path's.
    for text in ("NUMBER<15", "NUMBER>=15", "ORDINAL=1,3", "TRAIT>4", "LEVEL=left,ambidextrous"):
        assert filtered(IMAGE_VALUES, text) == filtered(CORRELATED, text)


def random_world(session, seed: int) -> dict[str, list]:
    """Subjects of two datasets with visits, images and assessments on random days (some
    blank, some at a visit, some out of any window), written through the factories."""
    rng = random.Random(seed)
    measures = [make_measure(session, designation="NUMBER"),
                make_measure(session, designation="ORDINAL", kind=MeasureKind.ORDINAL),
                make_measure(session, designation="TRAIT", per_subject=True),
                make_measure(session, designation="LEVEL", kind=MeasureKind.CATEGORY,
                             per_subject=True)]
    datasets = [make_dataset(session), make_dataset(session)]
    world = {"visits": [], "images": [], "assessments": []}
    for n in range(12):
        subject = make_subject(session, dataset=datasets[n % 2])
        days = rng.sample(range(0, 1500, 10), 4)
        visits = [make_visit(session, subject=subject, days_since_baseline=day)
                  for day in days[:rng.randint(0, 3)]]
        world["visits"] += visits
        for _ in range(rng.randint(0, 4)):
            visit = rng.choice([None, *visits])
            own_day = rng.choice([None, rng.randrange(0, 1600)])
            world["images"].append(make_image(session, subject=subject, visit=visit,
                                              days_since_baseline=own_day))
        for measure in measures:
            for day in rng.sample(range(0, 1600, 5), rng.randint(0, 5)):
                at = [visit for visit in visits if visit.days_since_baseline == day]
                if measure.kind is MeasureKind.CATEGORY:
                    value = rng.choice([None, *LEVELS])
                else:
                    value = rng.choice([None, *range(0, 30)])
                world["assessments"].append(make_assessment(
                    session, subject=subject, measure=measure, days_since_baseline=day,
                    visit=rng.choice([None, *visits]) if not at else at[0], value=value))
    return world


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_read_model_equals_the_correlated_path_after_orm_writes(session, seed):
    world = random_world(session, seed)
    assert_read_model_right(session)
    rng = random.Random(seed)
    # Values change or go blank, visits move, images lose their visit or move in time.
    for assessment in rng.sample(world["assessments"], 8):
        assessment.value_text = rng.choice(LEVELS) if assessment.value_text else None
        assessment.value_number = (None if assessment.value_text else rng.choice([None, 3, 27]))
    assert_read_model_right(session)
    for visit in rng.sample(world["visits"], min(3, len(world["visits"]))):
        visit.days_since_baseline += rng.choice([-400, 200, 800])
    for image in rng.sample(world["images"], 4):
        image.visit_id = None
        image.days_since_baseline = rng.randrange(0, 1600)
    assert_read_model_right(session)
    for row in [*rng.sample(world["assessments"], 5), *rng.sample(world["images"], 3)]:
        session.delete(row)
    assert_read_model_right(session)


def test_a_measure_turned_per_subject_refreshes_every_image(session):
    random_world(session, 4)
    measure = session.scalar(select(Measure).where(Measure.designation == "NUMBER"))
    measure.per_subject = True
    assert_read_model_right(session)


def test_the_refresh_writes_the_rows_the_hook_wrote(session):
    random_world(session, 5)
    session.flush()
    before = read_model()
    assert refresh_image_measures(session) == len(before)
    assert read_model() == before


def oasis_right(session) -> None:
    session.expire_all()
    expected = correlated()
    assert read_model() == expected
    assert {row[1] for row in expected} >= set(session.scalars(select(Measure.id).where(
        Measure.designation.in_(["MMSE", "HEIGHT", "HANDEDNESS"]))))


def heights(session) -> list[float]:
    return sorted(session.scalars(select(ImageMeasure.value_number).join(
        Measure, Measure.id == ImageMeasure.measure_id).where(Measure.designation == "HEIGHT")))


def test_the_read_model_is_right_after_a_load_and_after_harmonise(app, seeded, tmp_path):
    session = seeded
    assert flask_load(app, "OASIS").exit_code == 0
    oasis_right(session)
    before = heights(session)
    assert before
    # A changed unit conversion re-maps every stored height: the images' copies follow.
    text = MAPPING.read_text()
    assert "column: height, scale: 2.54" in text
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text.replace("column: height, scale: 2.54", "column: height, scale: 2.5"))
    result = app.test_cli_runner().invoke(args=["harmonise", "OASIS", "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    oasis_right(session)
    assert heights(session) == pytest.approx([value / 2.54 * 2.5 for value in before])
    # A re-load of the same files writes nothing and leaves the copies as they are.
    assert flask_load(app, "OASIS").exit_code == 0
    oasis_right(session)
