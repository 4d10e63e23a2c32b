"""PPMI: visit codes, months, series types, and loading the bundled example on both databases.

Expected rows are computed here with pandas from data/PPMI's files, by the rules of the
package's docstring, not through the loader.
"""
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.PPMI.read import (
    MAPPING,
    image_type,
    months_to_days,
    read_ppmi,
    to_acquisition_date,
    to_month,
    visit_code,
)
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    run_script,
    subject_conditions,
    written,
)

FOLDER = DATA_DIR / "PPMI"
COHORTS = {"Parkinson's Disease": "Parkinson's Disease", "Healthy Control": "Healthy Control",
           "Prodromal": "Prodromal PD"}  # SWEDD: left unknown
TYPES = {"MRI": "T1", "DTI": "DWI", "fMRI": "rsfMRI"}  # by Modality, FLAIR apart
STATE_ORDER = {"OFF": 0, "": 1, "ON": 2}


@pytest.mark.parametrize(("event", "visit"), [
    ("SC", "BL"), ("BL", "BL"), ("V01", "V01"), ("V04", "V04"), ("R17", "R17"), ("U01", "U01"),
    ("ST", "ST"), ("PW", "PW")])
def test_visit_codes(event, visit):
    assert visit_code(event) == visit


@pytest.mark.parametrize("event", ["", "bl", "V4", "Baseline", "V001", "X01"])
def test_unknown_visit_code_is_an_error(event):
    with pytest.raises(ValueError, match="not a PPMI visit code"):
        visit_code(event)


@pytest.mark.parametrize(("text", "month"), [("01/2012", (2012, 1)), ("12/2020", (2020, 12))])
def test_months(text, month):
    assert to_month(text) == month


@pytest.mark.parametrize("text", ["13/2012", "00/2012", "2012-01", "1/2012", "Jan-12", ""])
def test_bad_month_is_an_error(text):
    with pytest.raises(ValueError, match="MM/YYYY"):
        to_month(text)


def test_days_and_dates():
    assert months_to_days((2012, 3), (2013, 3)) == 365
    assert months_to_days((2012, 3), (2014, 4)) == round(25 * 365.25 / 12)
    assert str(to_acquisition_date("3/9/2012")) == "2012-03-09"
    with pytest.raises(ValueError, match="M/D/YYYY"):
        to_acquisition_date("2012-03-09")


@pytest.mark.parametrize(("description", "kind"), [
    ("MPRAGE GRAPPA", "T1"), ("SAG 3D T1 FSPGR", "T1"), ("3D T1-weighted", "T1"),
    ("DTI_gated", "DWI"), ("Ax DWI B-0 A/P", "DWI"), ("rsfMRI_RL", "rsfMRI"),
    ("ep2d_bold_rest", "rsfMRI"), ("AX T2 FLAIR", None), ("3D T2 SPC FLAIR", None),
    ("AXIAL PD-T2 TSE", None), ("2D GRE-NM", None)])
def test_series_types(description, kind):
    assert image_type(description) == kind


# --- malformed input: the reader names the file, row and column ---------------------------------

@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("MDS-UPDRS_Part_III.csv", ",NP3TOT,", ",NP3_TOTAL,", "MDS-UPDRS_Part_III.csv, row 1, "
                                                          "column 'NP3TOT'"),
    ("Demographics.csv", "3003,SC,SCREEN,02/2012,0,2", "3003,SC,SCREEN,02/2012,7,2",
     "Demographics.csv, row 4, column 'SEX'"),
    ("MDS-UPDRS_Part_III.csv", "3002,BL,NUPDRS3,05/2012", "3002,BL,NUPDRS3,13/2012",
     "MDS-UPDRS_Part_III.csv, row 7, column 'INFODT'"),
    ("MDS-UPDRS_Part_III.csv", "3001,V04,NUPDR3ON,03/2013,ON", "3001,V04,NUPDR3ON,03/2013,MID",
     "MDS-UPDRS_Part_III.csv, row 5, column 'PDSTATE'"),
    ("Montreal_Cognitive_Assessment__MoCA_.csv", "3007,SC", "3007,V4",
     "Montreal_Cognitive_Assessment__MoCA_.csv, row 7, column 'EVENT_ID'"),
    ("PPMI_imaging_list.csv", "3/14/2013", "2013-03-14",
     "PPMI_imaging_list.csv, row 5, column 'Acq Date'"),
    ("PPMI_imaging_list.csv", "3007,Month 6", "3007,Month 7",
     "PPMI_imaging_list.csv, row 14, column 'Visit'"),
    ("MDS-UPDRS_Part_III.csv", "2005,3002,BL", "2005,3099,BL",
     "MDS-UPDRS_Part_III.csv, row 7, column 'PATNO'"),
])
def test_malformed_input_names_file_row_and_column(tmp_path, file, old, new, where):
    assert_read_names_the_cell(tmp_path, "PPMI", read_ppmi, file, old, new, where)


# --- the example, read with pandas -------------------------------------------------------------

def clinical(name: str) -> pd.DataFrame:
    """A clinical table with its visit (SC is part of BL) and whether the row is screening."""
    table = pd.read_csv(FOLDER / name, dtype=str, keep_default_na=False)
    return table.assign(visit=table["EVENT_ID"].replace({"SC": "BL"}),
                        screening=table["EVENT_ID"] == "SC")


def counting_exams() -> pd.DataFrame:
    """The MDS-UPDRS III exam that counts per visit: baseline over screening, then off, no
    state, on."""
    exams = clinical("MDS-UPDRS_Part_III.csv")
    exams = exams.assign(order=exams["PDSTATE"].map(STATE_ORDER))
    return (exams.sort_values(["PATNO", "visit", "screening", "order"])
            .drop_duplicates(["PATNO", "visit"]))


def stored_types() -> dict[str, str]:
    """{Image Data ID: type} of the listed images downloaded, FLAIR apart."""
    listing = pd.read_csv(FOLDER / "PPMI_imaging_list.csv", dtype=str)
    return {row["Image Data ID"]: TYPES[row["Modality"]] for _, row in listing.iterrows()
            if "FLAIR" not in row["Description"]
            and list((FOLDER / "images" / row["Subject ID"]).glob(f"*/*/{row['Image Data ID']}/*"))}


def test_flask_load_ppmi_gives_what_pandas_computes(app, seeded):
    session = seeded
    result = flask_load(app, "PPMI")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "PPMI"))
    status = pd.read_csv(FOLDER / "Participant_Status.csv", dtype=str)
    updrs, moca = clinical("MDS-UPDRS_Part_III.csv"), clinical(
        "Montreal_Cognitive_Assessment__MoCA_.csv")
    visits = {f"{patno}_{visit}" for table in (updrs, moca)
              for patno, visit in zip(table["PATNO"], table["visit"], strict=True)}
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(status)
    assert set(session.scalars(select(Visit.external_id))) == visits
    types = stored_types()
    assert image_types(session, dataset_id) == pd.Series(types).value_counts().to_dict()
    assert subject_conditions(session, dataset_id) == {
        row.PATNO: COHORTS.get(row.COHORT_DEFINITION) for row in status.itertuples()}
    # Each image in the visit its Visit names, else (Month 6) the closest earlier one.
    links = {path.split("/")[-2]: visit for path, visit in image_visits(session, "PPMI/").items()}
    assert links.keys() == types.keys()
    assert links["I100004"] == "3001_V04" and links["I100013"] == "3007_BL"
    # Days: months since the baseline month at 365.25 / 12 days each.
    days = dict(session.execute(select(Visit.external_id, Visit.days_since_baseline)).all())
    assert (days["3001_BL"], days["3001_V04"], days["3001_V06"]) == (0, 365, 761)

    stored = session.execute(
        select(Subject.external_id, Visit.external_id, Measure.designation,
               Assessment.value_number, Assessment.value_text, Assessment.mapping_version)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)
        .where(Subject.dataset_id == dataset_id)).all()
    assert {version for *_, version in stored} \
        == {hashlib.sha256(Path(MAPPING).read_bytes()).hexdigest()}
    found = {(visit or subject, measure): number if text is None else text
             for subject, visit, measure, number, text, _ in stored}
    exams = counting_exams()
    moca_kept = moca.sort_values(["PATNO", "visit", "screening"]).drop_duplicates(
        ["PATNO", "visit"])
    expected = {}
    for table, column, measure in ((exams, "NP3TOT", "MDS_UPDRS_III"),
                                   (exams, "NHY", "HOEHN_YAHR"),
                                   (moca_kept, "MCATOT", "MOCA")):
        for row in table[table[column] != ""].itertuples():
            expected[f"{row.PATNO}_{row.visit}", measure] = float(getattr(row, column))
    demographics = pd.read_csv(FOLDER / "Demographics.csv", dtype=str, keep_default_na=False)
    hands = {"1": "right", "2": "left", "3": "ambidextrous"}
    for row in demographics[demographics["HANDED"] != ""].itertuples():
        # A per-subject value lands on the subject's visit of day 0, its baseline.
        expected[f"{row.PATNO}_BL", "HANDEDNESS"] = hands[row.HANDED]
    assert found == expected
    assert found["3001_V04", "MDS_UPDRS_III"] == 24.0   # the off exam, not the on one (18)
    assert found["3001_BL", "MDS_UPDRS_III"] == 28.0    # baseline, not screening (25)
    assert ("3006_BL", "MDS_UPDRS_III") not in found    # a blank total
    # Every exam is kept in the visit's symptoms.
    symptoms = session.scalar(select(Visit.symptoms).where(Visit.external_id == "3001_V04"))
    assert [(exam["PDSTATE"], exam["NP3TOT"]) for exam in symptoms["mds_updrs_iii"]] \
        == [("OFF", 24), ("ON", 18)]


def test_the_report_and_loading_twice(app, seeded):
    first = load_example("PPMI")
    assert dict(first.ignored) == {"image of the imaging list without its NIfTI file": 1,
                                   "not an MBID image type (series description)": 1}
    assert first.notes["diagnosis label mapping.yaml maps to no condition: SWEDD"] == 1
    assert first.notes["screening value superseded by the baseline one"] == 2
    assert written(first)["image"] == len(stored_types())
    assert written(load_example("PPMI")) == {}


def test_a_broken_file_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(
        app, "PPMI", "PPMI", "MDS-UPDRS_Part_III.csv", "3002,BL,NUPDRS3,05/2012",
        "3002,BL,NUPDRS3,13/2012", "MDS-UPDRS_Part_III.csv, row 7, column 'INFODT'", tmp_path)


def test_the_subject_script_runs_from_any_directory(database_url, app, seeded, tmp_path):
    result = run_script("PPMI", "load_subject.py", database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    seeded.expire_all()
    assert count(seeded, Subject) == len(pd.read_csv(FOLDER / "Participant_Status.csv"))
