"""Cam-CAN: standard_data.csv and the BIDS tree, checked against pandas over the example."""
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.CamCAN.read import read_camcan
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

FOLDER = DATA_DIR / "CamCAN"
# BIDS datatype folder and file-name ending -> the stored image type.
KINDS = {("anat", "_T1w.nii.gz"): "T1", ("dwi", "_dwi.nii.gz"): "DWI",
         ("func", "_task-Rest_bold.nii.gz"): "rsfMRI", ("fmap", "_magnitude1.nii.gz"): "FieldMap",
         ("fmap", "_phasediff.nii.gz"): "FieldMap"}


def hand(quotient: str) -> str:
    """The handedness of an Edinburgh laterality quotient, cut at -40 and +40 ('' if blank)."""
    if not quotient:
        return ""
    return ("left" if float(quotient) <= -40 else "ambidextrous" if float(quotient) <= 40
            else "right")


def expected_images() -> dict[str, str]:
    """{storage path: type} of the example's images, from the file names alone."""
    found = {}
    for path in sorted((FOLDER / "BIDS").rglob("*.nii.gz")):
        for (datatype, ending), kind in KINDS.items():
            if path.parent.name == datatype and path.name.endswith(ending):
                found[f"CamCAN/{path.relative_to(FOLDER).as_posix()}"] = kind
    return found


def test_flask_load_camcan_gives_the_exact_rows(app, seeded):
    session = seeded
    table = pd.read_csv(FOLDER / "standard_data.csv", dtype=str, keep_default_na=False)
    result = flask_load(app, "CamCAN")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "CamCAN"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(table)
    # One visit per participant, whether scanned or not.
    assert count(session, Visit) == len(table)
    images = expected_images()
    assert image_types(session, dataset_id) == pd.Series(images).value_counts().to_dict()
    assert image_visits(session, "CamCAN/") == dict.fromkeys(images, "baseline")
    assert set(subject_conditions(session, dataset_id).values()) == {"Healthy Control"}

    stored = {s.external_id: (s.sex, s.age_at_baseline) for s in session.scalars(select(Subject))}
    sex = {"MALE": "male", "FEMALE": "female", "": "unknown"}
    assert stored == {row.CCID: (sex[row.Sex], float(row.Age) if row.Age else None)
                      for row in table.itertuples()}
    hands = session.execute(select(Subject.external_id, Assessment.value_text)
                            .join(Assessment, Assessment.subject_id == Subject.id)
                            .join(Measure, Assessment.measure_id == Measure.id)
                            .where(Measure.designation == "HANDEDNESS")).all()
    assert dict(hands) == {row.CCID: hand(row.Hand) for row in table.itertuples() if row.Hand}
    assert dict(hands)["CC110045"] == "ambidextrous"   # 26.67: between the cut-offs
    quotients = {s.external_id: (s.handedness, s.metadata_json["laterality_quotient"])
                 for s in session.scalars(select(Subject))}
    assert quotients == {row.CCID: (hand(row.Hand) or "unknown",
                                    float(row.Hand) if row.Hand else None)
                         for row in table.itertuples()}
    # The participant without images still has its visit; nothing more on a second load.
    visit = session.scalar(select(Visit).join(Subject).where(Subject.external_id == "CC120002"))
    assert (visit.days_since_baseline, visit.images) == (0, [])
    assert written(load_example("CamCAN")) == {}


@pytest.mark.parametrize(("old", "new", "where"), [
    ("CCID,Sex,Hand,Age", "CCID,Sex,Handedness,Age", "standard_data.csv, row 1, column 'Hand'"),
    ("CC110045,FEMALE", "CC110045,F", "standard_data.csv, row 4, column 'Sex'"),
    (",18\n", ",eighteen\n", "standard_data.csv, row 3, column 'Age'"),
    ("CC520055,FEMALE,60", "CC520055,FEMALE,160", "standard_data.csv, row 7, column 'Hand'"),
])
def test_broken_participant_table_names_the_cell(tmp_path: Path, old, new, where):
    assert_read_names_the_cell(tmp_path, "CamCAN", read_camcan, "standard_data.csv", old, new,
                               where)


def test_an_unknown_sex_code_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "CamCAN", "CamCAN", "standard_data.csv",
                                        "CC110045,FEMALE", "CC110045,F",
                                        "standard_data.csv, row 4, column 'Sex'", tmp_path)
