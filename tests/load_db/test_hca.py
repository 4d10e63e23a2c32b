"""HCP-Aging: NDA structures (description row, dates, visits), the imaging collection, and
loading the bundled example on both databases, checked against pandas over the example files."""
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Image, Measure, Scanner, Subject, Visit
from globals import DATA_DIR
from load_db.HCA.read import read_hca, scan_type, to_nda_date, to_visit
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    subject_conditions,
)

FOLDER = DATA_DIR / "HCA"


def structure(name: str) -> pd.DataFrame:
    """An NDA structure of the example as text, its description row (row 2) skipped."""
    return pd.read_csv(FOLDER / name, sep="\t", skiprows=[1], dtype=str, keep_default_na=False)


def nifti_files() -> list[tuple[str, str, str, str]]:
    """(relative path, subject, visit, scan) of every NIfTI file of the imaging collection."""
    found = []
    for file in sorted((FOLDER / "imagingcollection01").rglob("*.nii.gz")):
        session, scan = file.name.removesuffix(".nii.gz").split("_MR_")
        subject, visit = session.split("_")
        found.append((file.relative_to(FOLDER).as_posix(), subject, visit, scan))
    return found


def stored_type(scan: str) -> str | None:
    if scan.startswith("T1w_MPR_vNav_4e_e1e2_mean"):
        return "T1"
    if scan.startswith("dMRI_dir"):
        return "DWI"
    return "rsfMRI" if scan.startswith("rfMRI_REST") else None


@pytest.mark.parametrize(("text", "expected"), [
    ("03/14/2017", date(2017, 3, 14)), ("12/31/2020", date(2020, 12, 31)), ("", None)])
def test_nda_dates(text, expected):
    assert to_nda_date(text) == expected


@pytest.mark.parametrize("text", ["2017-03-14", "14/03/2017", "03/14/17", "soon"])
def test_nda_dates_reject(text):
    with pytest.raises(ValueError, match="not a date"):
        to_nda_date(text)


@pytest.mark.parametrize(("text", "ok"), [("V1", True), ("V2", True), ("v1", False),
                                          ("Visit1", False), ("", False)])
def test_visit_codes(text, ok):
    if ok:
        assert to_visit(text) == text
    else:
        with pytest.raises(ValueError, match="not a visit code"):
            to_visit(text)


@pytest.mark.parametrize(("scan", "kind"), [
    ("T1w_MPR_vNav_4e_e1e2_mean", "T1"), ("dMRI_dir98_AP", "DWI"), ("dMRI_dir99_PA", "DWI"),
    ("rfMRI_REST1_AP", "rsfMRI"), ("rfMRI_REST2_PA", "rsfMRI"), ("rfMRI_REST1_AP_SBRef", None),
    ("T1w_MPR_vNav_4e_RMS", None), ("T2w_SPC_vNav", None), ("tfMRI_CARIT_PA", None)])
def test_scan_types(scan, kind):
    assert scan_type(scan) == kind


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    # a missing column
    ("ndar_subject01.txt", "interview_age\tsex\trace", "interview_age\tgender\trace",
     "ndar_subject01.txt, row 1, column 'sex'"),
    # an unknown sex code (NDA: M, F, O, NR), in the 4th record (row 6)
    ("ndar_subject01.txt", "1105\tM\t", "1105\tX\t", "ndar_subject01.txt, row 6, column 'sex'"),
    # a bad date, in the second record (row 4)
    ("moca01.txt", "03/16/2019", "2019-03-16", "moca01.txt, row 4, column 'interview_date'"),
    # no date, in the first participant's record
    ("ndar_subject01.txt", "03/14/2017", "", "ndar_subject01.txt, row 3, column 'interview_date'"),
    # an unknown visit code
    ("vitals01.txt", "F\tV2", "F\tVisit2", "vitals01.txt, row 4, column 'visit'"),
    # a record twice
    ("moca01.txt", "F\tV2", "F\tV1", "moca01.txt, row 4, column 'visit'"),
    # row 2 a record, not the descriptions (its age a number of months)
    ("vitals01.txt", "Age in months at the time of the interview/test/sampling/imaging.", "720",
     "vitals01.txt, row 2, column 'interview_age'"),
    # an Edinburgh score out of range, in the 3rd record (row 5)
    ("edinburgh_hand01.txt", "V1\t-75", "V1\t-175",
     "edinburgh_hand01.txt, row 5, column 'hcp_handedness_score'"),
])
def test_malformed_input_names_file_row_and_column(tmp_path, file, old, new, where):
    assert_read_names_the_cell(tmp_path, "HCA", read_hca, file, old, new, where)


def test_flask_load_hca_gives_the_exact_rows(app, seeded):
    session = seeded
    result = flask_load(app, "HCA")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "HCA"))

    people = structure("ndar_subject01.txt").set_index("src_subject_id")
    subjects = {s.external_id: s for s in session.scalars(
        select(Subject).where(Subject.dataset_id == dataset_id))}
    assert set(subjects) == set(people.index)
    for subject, row in people.iterrows():
        assert subjects[subject].age_at_baseline == pytest.approx(int(row.interview_age) / 12)
        assert subjects[subject].sex == {"M": "male", "F": "female"}[row.sex]
        assert subjects[subject].metadata_json == {
            "race": row.race, "ethnic_group": row.ethnic_group, "site": row.site}
    assert set(subject_conditions(session, dataset_id).values()) == {"Healthy Control"}

    # Visits: every (subject, visit) of a measure record or of a known subject's MR session;
    # the day is the earliest record's date minus the ndar_subject01 date.
    baseline = pd.to_datetime(people["interview_date"], format="%m/%d/%Y")
    records = pd.concat([structure("vitals01.txt"), structure("moca01.txt")])
    records["day"] = [(d - baseline[s]).days for s, d in zip(
        records.src_subject_id, pd.to_datetime(records.interview_date, format="%m/%d/%Y"),
        strict=True)]
    expected = records.groupby(["src_subject_id", "visit"])["day"].min().to_dict()
    images = [(path, s, v, stored_type(scan)) for path, s, v, scan in nifti_files()
              if s in people.index and stored_type(scan)]
    for _, subject, visit, _ in images:
        expected.setdefault((subject, visit), 0)
    stored = session.execute(select(Subject.external_id, Visit.external_id,
                                    Visit.days_since_baseline).join(Subject)
                             .where(Subject.dataset_id == dataset_id)).all()
    assert {(s, v): day for s, v, day in stored} == expected
    assert expected[("HCA6047359", "V1")] == 0  # its vitals came a day after its MoCA

    # Images: the stored scans of known subjects, each in its session's visit, one scanner.
    assert image_types(session, dataset_id) == pd.Series(
        [kind for *_, kind in images]).value_counts().to_dict()
    assert image_visits(session, "HCA/") == {f"HCA/{path}": visit
                                             for path, _, visit, _ in images}
    scanner = session.scalar(select(Scanner).where(Scanner.dataset_id == dataset_id))
    assert (scanner.manufacturer, scanner.model, scanner.field_strength) \
        == ("Siemens", "Prisma", 3.0)
    assert count(session, Image, Image.scanner_id == scanner.id) == len(images)
    # Subjects and visits without images are kept.
    assert {v for v in expected if not any((s, vi) == v for _, s, vi, _ in images)} \
        == {("HCA6018857", "V2"), ("HCA6030645", "V1")}

    # Measures: every value, its day and unit conversion computed here from the files.
    values = session.execute(
        select(Subject.external_id, Measure.designation, Assessment.days_since_baseline,
               Assessment.value_number, Assessment.value_text)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .where(Subject.dataset_id == dataset_id)).all()
    by_measure: dict[str, dict] = {}
    for subject, measure, day, number, text in values:
        by_measure.setdefault(measure, {})[(subject, day)] = text if number is None else number
    vitals, moca = structure("vitals01.txt"), structure("moca01.txt")
    vitals["day"] = records.day.iloc[:len(vitals)].tolist()
    moca["day"] = records.day.iloc[len(vitals):].tolist()
    weighed = vitals[vitals.weight_std != ""]
    measured = vitals[vitals.vtl007 != ""]
    both = vitals[(vitals.weight_std != "") & (vitals.vtl007 != "")]
    scored = moca[moca.moca_total != ""]
    hands = structure("edinburgh_hand01.txt")
    hands = hands[hands.hcp_handedness_score != ""]
    quotient = hands.hcp_handedness_score.astype(float)
    assert set(by_measure) == {"WEIGHT", "HEIGHT", "BMI", "MOCA", "HANDEDNESS"}
    assert by_measure["WEIGHT"] == pytest.approx({
        (r.src_subject_id, r.day): float(r.weight_std) * 0.45359237
        for r in weighed.itertuples()})
    assert by_measure["HEIGHT"] == pytest.approx({
        (r.src_subject_id, r.day): float(r.vtl007) * 2.54 for r in measured.itertuples()})
    assert by_measure["BMI"] == pytest.approx({
        (r.src_subject_id, r.day): 703 * float(r.weight_std) / float(r.vtl007) ** 2
        for r in both.itertuples()})
    assert by_measure["MOCA"] == {(r.src_subject_id, r.day): float(r.moca_total)
                                  for r in scored.itertuples()}
    hand = ["left" if q <= -40 else "ambidextrous" if q <= 40 else "right" for q in quotient]
    assert by_measure["HANDEDNESS"] == {
        (subject, 0): value for subject, value in zip(hands.src_subject_id, hand, strict=True)}
    assert {s.external_id: s.handedness for s in subjects.values()} == {
        subject: dict(zip(hands.src_subject_id, hand, strict=True)).get(subject, "unknown")
        for subject in people.index}
    # A few exact values, and the blanks left out.
    assert (len(weighed), len(measured), len(both), len(scored), len(hands)) == (9, 9, 8, 9, 6)
    assert by_measure["MOCA"][("HCA6002236", 732)] == 26.0
    assert by_measure["HEIGHT"][("HCA6047359", 1)] == pytest.approx(61.4 * 2.54)


def test_a_broken_structure_exits_2_and_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "HCA", "HCA", "vitals01.txt", "03/16/2019",
                                        "16.03.2019",
                                        "vitals01.txt, row 4, column 'interview_date'", tmp_path)
