"""The engine's assessments: harmonised with the mapping, linked to the visit of their day,
upserted once (a re-load changes nothing), bad rows named by file, row and column; on both
databases."""
import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Measure, Visit
from load_db.engine import LoadError, load_frames
from load_db.engine.assessments import NO_MASTER_MEASURES
from load_db.engine.mapping import read_mapping
from tests.support.factories import make_dataset

MAPPING = """
measures:
  - {measure: MMSE, file: visits.csv, column: mmse}
  - {measure: HEIGHT, file: visits.csv, column: height_in, scale: 2.54}
missing: ["", "-"]
"""


@pytest.fixture
def mapping(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING)
    return read_mapping(path)


def with_measures(session):
    make_dataset(session, designation="DEMO")
    session.add_all([Measure(designation="MMSE", kind="ordinal", minimum=0, maximum=30),
                     Measure(designation="HEIGHT", kind="number", unit="cm", minimum=50,
                             maximum=250)])
    session.flush()


def frames(**assessments):
    subjects = pd.DataFrame({"external_id": ["s1", "s2"]})
    visits = pd.DataFrame({"subject": ["s1", "s1", "s2"], "external_id": ["v0", "v1", "v0"],
                           "days_since_baseline": [0, 400, 0]})
    rows = {"subject": ["s1", "s1", "s1", "s2", "s2"], "visit": ["v0", None, "v1", "v0", None],
            "days_since_baseline": [None, 0, None, None, 30],
            "measure": ["MMSE", "HEIGHT", "MMSE", "MMSE", "MMSE"],
            "raw_value": ["29", "70", "-", "24", "22"],
            "source_column": ["mmse", "height_in", "mmse", "mmse", "mmse"],
            "source_file": "visits.csv", "source_row": [2, 2, 3, 4, 5], **assessments}
    return {"subjects": subjects, "visits": visits, "assessments": pd.DataFrame(rows)}


def stored(session):
    return sorted(session.execute(
        select(Measure.designation, Assessment.days_since_baseline, Visit.external_id,
               Assessment.value_number, Assessment.raw_value, Assessment.mapping_version)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)).all())


def test_values_are_harmonised_linked_and_loaded_once(plain_session, mapping):
    with_measures(plain_session)
    report = load_frames(plain_session, "DEMO", mapping=mapping, **frames())
    assert report.counts("assessment").inserted == 4   # the "-" is missing: no row
    version = mapping.version
    assert stored(plain_session) == [
        ("HEIGHT", 0, "v0", pytest.approx(177.8), "70", version),  # the visit of its day
        ("MMSE", 0, "v0", 24.0, "24", version),
        ("MMSE", 0, "v0", 29.0, "29", version),
        ("MMSE", 30, None, 22.0, "22", version),                   # no visit that day
    ]
    again = load_frames(plain_session, "DEMO", mapping=mapping, **frames())
    assert again.counts("assessment").written == 0 and again.counts("assessment").unchanged == 4


@pytest.mark.parametrize(("changes", "message"), [
    ({"raw_value": ["31", "70", "-", "24", "22"]},
     "visits.csv, row 2, column 'mmse': '31' gives 31, outside MMSE's range 0 to 30"),
    ({"visit": ["v9", None, "v1", "v0", None]}, "visits.csv, row 2, column 'visit': unknown "
                                                "visit 'v9'"),
    ({"subject": ["s1", "s1", "s1", "s2", "s3"]}, "visits.csv, row 5, column 'subject': "
                                                  "unknown subject 's3'"),
    ({"days_since_baseline": [None, 0, None, None, 1.5]},
     "visits.csv, row 5, column 'days_since_baseline': 1.5 is not a day since baseline"),
    ({"measure": ["MMSE", "HEIGHT", "MMSE", "MMSE", "MOCA"]},
     "visits.csv, row 5, column 'mmse': measure 'MOCA' is not in the master list of measures"),
    ({"source_column": ["mmse", "height", "mmse", "mmse", "mmse"]},
     "visits.csv, row 2, column 'height': mapping.yaml maps no column 'height' to measure "
     "'HEIGHT'"),
    ({"visit": ["v0", None, "v1", "v0", "v0"], "days_since_baseline": [None, 0, None, None, None]},
     "visits.csv, row 5, column 'mmse': a second value of MMSE for subject 's2' on day 0"),
])
def test_a_bad_row_stops_the_load_naming_it(plain_session, mapping, changes, message):
    with_measures(plain_session)
    with pytest.raises(LoadError) as raised:
        load_frames(plain_session, "DEMO", mapping=mapping, **frames(**changes))
    assert message in str(raised.value)


def test_without_a_master_list_of_measures_the_values_are_left_out_and_reported(plain_session,
                                                                               mapping):
    make_dataset(plain_session, designation="DEMO")
    report = load_frames(plain_session, "DEMO", mapping=mapping, **frames())
    assert report.ignored == {NO_MASTER_MEASURES: 5}
    assert report.counts("subject").inserted == 2


def test_assessments_need_a_mapping(plain_session):
    with_measures(plain_session)
    with pytest.raises(LoadError, match="assessments need the dataset's mapping file"):
        load_frames(plain_session, "DEMO", **frames())
