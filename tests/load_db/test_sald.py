"""SALD: demographic_information.csv and the BIDS tree, checked against pandas over the
example."""
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.SALD.read import read_sald
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    subject_conditions,
    written,
)

FOLDER = DATA_DIR / "SALD"
TABLE = "demographic_information.csv"


def hand(score: str) -> str:
    """The handedness of an Edinburgh laterality quotient, cut at -40 and +40 ('' if blank)."""
    if not score:
        return ""
    return "left" if float(score) <= -40 else "ambidextrous" if float(score) <= 40 else "right"


def test_flask_load_sald_gives_the_exact_rows(app, seeded):
    session = seeded
    table = pd.read_csv(FOLDER / TABLE, dtype=str, keep_default_na=False)
    result = flask_load(app, "SALD")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "SALD"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(table)
    assert count(session, Visit) == len(table)
    t1 = sorted((FOLDER / "BIDS").glob("sub-*/anat/sub-*_T1w.nii.gz"))
    rest = sorted((FOLDER / "BIDS").glob("sub-*/func/sub-*_task-rest_bold.nii.gz"))
    assert image_types(session, dataset_id) == {"T1": len(t1), "rsfMRI": len(rest)}
    assert image_visits(session, "SALD/") == {
        f"SALD/{path.relative_to(FOLDER).as_posix()}": "baseline" for path in t1 + rest}
    assert set(subject_conditions(session, dataset_id).values()) == {"Healthy Control"}

    stored = {s.external_id: (s.sex, s.age_at_baseline, s.handedness,
                              s.metadata_json["edinburgh_score"])
              for s in session.scalars(select(Subject))}
    sex = {"Male": "male", "Female": "female", "": "unknown"}
    assert stored == {row.Sub_ID: (sex[row.Sex], float(row.Age) if row.Age else None,
                                   hand(row.Edinburgh_Handedness) or "unknown",
                                   float(row.Edinburgh_Handedness)
                                   if row.Edinburgh_Handedness else None)
                      for row in table.itertuples()}
    assert stored["031274"][0] == "female"  # the leading zero of the id is kept
    hands = session.execute(select(Subject.external_id, Assessment.value_text)
                            .join(Assessment, Assessment.subject_id == Subject.id)
                            .join(Measure, Assessment.measure_id == Measure.id)
                            .where(Measure.designation == "HANDEDNESS")).all()
    assert dict(hands) == {row.Sub_ID: hand(row.Edinburgh_Handedness)
                           for row in table.itertuples() if row.Edinburgh_Handedness}
    assert dict(hands)["031276"] == "left"
    visit = session.scalar(select(Visit).join(Subject).where(Subject.external_id == "031283"))
    assert (visit.days_since_baseline, visit.images) == (0, [])
    assert written(load_example("SALD")) == {}


@pytest.mark.parametrize(("old", "new", "where"), [
    ("Sub_ID,Sex,Age", "Subject,Sex,Age", f"{TABLE}, row 1, column 'Sub_ID'"),
    ("031276,Female", "031276,F", f"{TABLE}, row 4, column 'Sex'"),
    ("031275,Male,67", "031275,Male,67 years", f"{TABLE}, row 3, column 'Age'"),
])
def test_broken_demographic_table_names_the_cell(tmp_path: Path, old, new, where):
    assert_read_names_the_cell(tmp_path, "SALD", read_sald, TABLE, old, new, where)


def test_a_score_out_of_range_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "SALD", "SALD", TABLE, "031274,Female,23,90",
                                        "031274,Female,23,190", f"{TABLE}, row 2, column "
                                        "'Edinburgh_Handedness'", tmp_path)
