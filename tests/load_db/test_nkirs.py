"""NKI-RS: sessions as visits dated by days since enrolment, checked against pandas over the
example."""
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.NKIRS.read import read_nkirs
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    written,
)

FOLDER = DATA_DIR / "NKIRS"


def sessions_tables() -> pd.DataFrame:
    """Every sub-*/sub-*_sessions.tsv, one row per session, with its subject."""
    return pd.concat([pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
                      .assign(subject=path.parent.name.removeprefix("sub-"))
                      for path in sorted(FOLDER.glob("sub-*/sub-*_sessions.tsv"))],
                     ignore_index=True)


def test_flask_load_nkirs_gives_the_exact_rows(app, seeded):
    session = seeded
    participants = pd.read_csv(FOLDER / "participants.tsv", sep="\t", dtype=str,
                               keep_default_na=False)
    sessions = sessions_tables()
    result = flask_load(app, "NKI-RS")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "NKI-RS"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(participants)

    # Visits: the sessions.tsv rows and the session folders holding data.
    folders = {(path.parent.name.removeprefix("sub-"), path.name.removeprefix("ses-"))
               for path in FOLDER.glob("sub-*/ses-*") if path.is_dir()}
    listed = {(row.subject, row.session_id.removeprefix("ses-")) for row in sessions.itertuples()}
    stored = {(subject, visit): day for subject, visit, day in session.execute(
        select(Subject.external_id, Visit.external_id, Visit.days_since_baseline)
        .select_from(Visit).join(Subject))}
    assert set(stored) == folders | listed
    days = {(row.subject, row.session_id.removeprefix("ses-")):
            int(row.days_since_enrollment) for row in sessions.itertuples()
            if row.days_since_enrollment != "n/a"}
    assert {key: stored[key] for key in days} == days
    assert stored[("A00013809", "FLU2")] is None       # in sessions.tsv, no day given
    assert stored[("A00035072", "BAS1")] == 0          # a lone session without sessions.tsv

    niftis = sorted(FOLDER.glob("sub-*/ses-*/*/*.nii.gz"))
    kinds = {"T1": [p for p in niftis if p.name.endswith("_T1w.nii.gz")],
             "DWI": [p for p in niftis if p.name.endswith("_dwi.nii.gz")],
             "rsfMRI": [p for p in niftis if "_task-rest_" in p.name]}
    assert image_types(session, dataset_id) == {kind: len(paths) for kind, paths in kinds.items()}
    assert image_visits(session, "NKI-RS/") == {
        f"NKI-RS/{path.relative_to(FOLDER).as_posix()}": path.parts[-3].removeprefix("ses-")
        for paths in kinds.values() for path in paths}

    # Age at enrolment: the earliest dated visit's age less its days.
    dated = sessions[(sessions.age != "n/a") & (sessions.days_since_enrollment != "n/a")]
    dated = dated.assign(day=dated.days_since_enrollment.astype(int), age=dated.age.astype(float))
    first = dated.sort_values("day").groupby("subject").first()
    ages = dict(session.execute(select(Subject.external_id, Subject.age_at_baseline)).all())
    assert ages == {label.removeprefix("sub-"): (
        round(first.age[label[4:]] - first.day[label[4:]] / 365.25, 2)
        if label[4:] in first.index else None) for label in participants.participant_id}
    assert ages["A00013809"] == 12.79

    hands = session.execute(select(Subject.external_id, Assessment.value_text)
                            .join(Assessment, Assessment.subject_id == Subject.id)
                            .join(Measure, Assessment.measure_id == Measure.id)
                            .where(Measure.designation == "HANDEDNESS")).all()
    assert dict(hands) == {row.participant_id[4:]: {"R": "right", "L": "left"}[row.handedness]
                           for row in participants.itertuples() if row.handedness != "n/a"}
    assert written(load_example("NKI-RS")) == {}


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("sub-A00010893/sub-A00010893_sessions.tsv", "days_since_enrollment", "days",
     "sub-A00010893_sessions.tsv, row 1, column 'days_since_enrollment'"),
    ("sub-A00008326/sub-A00008326_sessions.tsv", "\t547", "\t547.5",
     "sub-A00008326_sessions.tsv, row 3, column 'days_since_enrollment'"),
    ("sub-A00013809/sub-A00013809_sessions.tsv", "ses-FLU1\t14.1", "ses-FLU1\t14 y",
     "sub-A00013809_sessions.tsv, row 3, column 'age'"),
])
def test_broken_sessions_table_names_the_cell(tmp_path: Path, file, old, new, where):
    assert_read_names_the_cell(tmp_path, "NKIRS", read_nkirs, file, old, new, where)


def test_an_unknown_handedness_code_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "NKI-RS", "NKIRS", "participants.tsv",
                                        "sub-A00010893\tF\tL", "sub-A00010893\tF\tX",
                                        "participants.tsv, row 3, column 'handedness'", tmp_path)
