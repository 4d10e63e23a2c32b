"""The benchmark code stays runnable, and its baseline loads what the engine loads."""
import pandas as pd
from sqlalchemy import select

from app.models import Image, Subject, Visit
from bench.cases import CASES
from bench.legacy import legacy_load
from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames
from load_db.engine import load_frames
from tests.factories import make_condition, make_dataset


def test_synthetic_input_is_deterministic_and_ukbiobank_shaped():
    subjects, visits, images = ukbiobank_frames(30)
    again = ukbiobank_frames(30)
    assert (len(subjects), len(visits), len(images)) == (30, 60, 300)
    pd.testing.assert_frame_equal(images, again[2])
    assert set(images["type"]) == {"T1", "DWI", "rsfMRI", "FieldMap"}
    assert set(CASES) >= {"engine_ingest", "legacy_ingest", "engine_reload"}


def _stored(session):
    return (sorted(session.execute(select(Subject.external_id, Subject.sex)).all()),
            sorted(session.execute(select(Visit.external_id, Visit.days_since_baseline,
                                          Visit.condition_id)).all()),
            sorted(session.execute(select(Image.path, Image.type, Image.days_since_baseline,
                                          Image.file_size)).all()),
            sorted(session.execute(select(Image.path, Visit.external_id)
                                   .join(Visit, Image.visit_id == Visit.id)).all()))


def test_legacy_baseline_writes_the_same_rows_as_the_engine(session):
    make_dataset(session, designation="UK Biobank")
    for designation in UKB_CONDITIONS.values():
        make_condition(session, designation=designation)
    session.commit()
    subjects, visits, images = ukbiobank_frames(4)

    assert legacy_load(session, "UK Biobank", subjects, visits, images, UKB_CONDITIONS) == 52
    by_legacy = _stored(session)
    for table in (Image, Visit, Subject):
        session.execute(table.__table__.delete())
    session.commit()

    load_frames(session, "UK Biobank", subjects=subjects, visits=visits, images=images,
                map_condition=UKB_CONDITIONS.__getitem__)
    session.commit()
    assert _stored(session) == by_legacy
    assert len(by_legacy[3]) == 40  # every image found its visit
