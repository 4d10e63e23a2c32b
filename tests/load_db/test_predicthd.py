"""PREDICT-HD: hdcat codes onto conditions, visdy days, and loading the bundled BIDS example on
both databases, checked against pandas over the example files."""
import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, DatasetCondition, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.engine import LoadReport
from load_db.engine.labels import NO_CONDITION, dataset_conditions, mapped_labels
from load_db.engine.mapping import read_mapping
from load_db.PREDICTHD.read import MAPPING, read_predicthd
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    subject_conditions,
)

FOLDER = DATA_DIR / "PREDICT-HD"
HD, HC = "Huntington's Disease", "Healthy Control"


def tsv(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def sessions() -> pd.DataFrame:
    """Every sub-*/sub-*_sessions.tsv row of the example, with its subject."""
    return pd.concat([tsv(path).assign(subject=path.parent.name.removeprefix("sub-"))
                      for path in sorted(FOLDER.glob("sub-*/sub-*_sessions.tsv"))],
                     ignore_index=True)


@pytest.mark.parametrize(("code", "condition"), [
    ("2", HD), ("3", HD), ("4", HC), ("5", HC), ("6", HC)])
def test_the_mapping_maps_the_hdcat_codes(code, condition):
    assert read_mapping(MAPPING).condition_for(code) == condition


@pytest.mark.parametrize("code", ["0", "7", "pre-manifest", ""])
def test_the_mapping_maps_no_other_code(code):
    with pytest.raises(KeyError):
        read_mapping(MAPPING).condition_for(code)


def test_genotype_unknown_is_no_condition_and_is_reported():
    frames = read_predicthd(FOLDER)
    labels = frames.subjects.set_index("external_id")["condition"]
    participants = tsv(FOLDER / "participants.tsv")
    # Every subject keeps its code as its label; the engine maps 1 (genotype unknown) to none.
    assert labels.to_dict() == dict(zip(participants.participant_id.str.removeprefix("sub-"),
                                        participants.hdcat, strict=True))
    report = LoadReport()
    conditions = mapped_labels({"subjects": frames.subjects}, frames.mapping, report)
    assert conditions == {code: (None if code == "1" else HD if code in "23" else HC)
                          for code in set(participants.hdcat)}
    unknown = int((participants.hdcat == "1").sum())
    assert unknown and dict(report.notes) == {
        NO_CONDITION.format(mapping="mapping.yaml", label="1"): unknown}
    assert frames.report.ignored["not an MBID image type: anat/T2w"] == 1


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    # a missing column
    ("participants.tsv", "age\thdcat\tcag", "age\tgroup\tcag",
     "participants.tsv, row 1, column 'hdcat'"),
    # an unknown hdcat code, in the third participant's row (row 4)
    ("participants.tsv", "51.4\t3\t", "51.4\t9\t", "participants.tsv, row 4, column 'hdcat'"),
    # a bad visit day (visdy), in the second session (row 3)
    ("sub-PHD001/sub-PHD001_sessions.tsv", "ses-visit2\t371", "ses-visit2\t2002-01-05",
     "sub-PHD001_sessions.tsv, row 3, column 'visdy'"),
])
def test_malformed_input_names_file_row_and_column(tmp_path, file, old, new, where):
    # The hdcat code is checked where a load maps it.
    assert_read_names_the_cell(tmp_path, "PREDICT-HD",
                               lambda folder: dataset_conditions(read_predicthd(folder)),
                               file, old, new, where)


def test_flask_load_predicthd_gives_the_exact_rows(app, seeded):
    session = seeded
    result = flask_load(app, "PREDICT-HD")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "PREDICT-HD"))

    participants = tsv(FOLDER / "participants.tsv")
    participants["subject"] = participants.participant_id.str.removeprefix("sub-")
    subjects = {s.external_id: s for s in session.scalars(
        select(Subject).where(Subject.dataset_id == dataset_id))}
    assert set(subjects) == set(participants.subject)
    for row in participants.itertuples():
        assert (subjects[row.subject].sex, subjects[row.subject].age_at_baseline) \
            == ({"M": "male", "F": "female"}[row.sex], float(row.age))
    conditions = {"2": HD, "3": HD, "4": HC, "5": HC, "6": HC}
    assert subject_conditions(session, dataset_id) == {
        row.subject: conditions.get(row.hdcat) for row in participants.itertuples()}
    assert count(session, DatasetCondition, DatasetCondition.dataset_id == dataset_id) \
        == participants.hdcat[participants.hdcat.isin(list(conditions))].nunique()

    visits = sessions()
    stored = session.execute(select(Subject.external_id, Visit.external_id,
                                    Visit.days_since_baseline, Visit.symptoms).join(Subject)
                             .where(Subject.dataset_id == dataset_id)).all()
    assert {(s, v): day for s, v, day, _ in stored} == {
        (r.subject, r.session_id.removeprefix("ses-")): int(r.visdy) for r in visits.itertuples()}
    symptoms = {(s, v): scores for s, v, _, scores in stored}
    assert symptoms[("PHD001", "visit3")] == {
        "motscore": int(visits.motscore[(visits.subject == "PHD001")
                                        & (visits.session_id == "ses-visit3")].iloc[0]),
        "tfcscore": int(visits.tfcscore[(visits.subject == "PHD001")
                                        & (visits.session_id == "ses-visit3")].iloc[0]),
        "sdmt1": int(visits.sdmt1[(visits.subject == "PHD001")
                                  & (visits.session_id == "ses-visit3")].iloc[0])}

    # Images: T1w and dwi files, each in its session; other scans (T2w) are not stored.
    files = sorted(FOLDER.glob("sub-*/ses-*/*/*.nii.gz"))
    kinds = {"T1w": "T1", "dwi": "DWI"}
    expected = {f"PREDICT-HD/{file.relative_to(FOLDER).as_posix()}":
                file.parent.parent.name.removeprefix("ses-")
                for file in files if file.name.removesuffix(".nii.gz").split("_")[-1] in kinds}
    assert image_visits(session, "PREDICT-HD/") == expected
    assert image_types(session, dataset_id) == pd.Series(
        [kinds[file.name.removesuffix(".nii.gz").split("_")[-1]] for file in files
         if file.name.removesuffix(".nii.gz").split("_")[-1] in kinds]).value_counts().to_dict()
    # Sessions without images are still visits.
    with_images = {(path.split("/")[1].removeprefix("sub-"), visit)
                   for path, visit in expected.items()}
    assert {(s, v) for s, v, *_ in stored} - with_images == {("PHD004", "visit3"),
                                                            ("PHD007", "visit1")}

    # UHDRS total motor score: one value per session with a motscore, on the session's day.
    values = session.execute(
        select(Subject.external_id, Visit.external_id, Assessment.days_since_baseline,
               Assessment.value_number)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Visit, Assessment.visit_id == Visit.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .where(Subject.dataset_id == dataset_id, Measure.designation == "UHDRS_TMS")).all()
    scored = visits[visits.motscore != "n/a"]
    assert sorted(values) == sorted(
        (r.subject, r.session_id.removeprefix("ses-"), int(r.visdy), float(r.motscore))
        for r in scored.itertuples())
    assert len(values) == len(visits) - 2


def test_a_broken_participants_file_exits_2_and_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "PREDICT-HD", "PREDICT-HD", "participants.tsv",
                                        "51.4\t3\t", "51.4\t7\t",
                                        "participants.tsv, row 4, column 'hdcat'", tmp_path)
