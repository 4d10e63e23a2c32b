"""ADNI: visit codes, image types, and loading the bundled example (ADNIMERGE.csv, the IDA image
collection) on both databases, checked against pandas over the example files."""
import re
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, DatasetCondition, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.ADNI.read import image_visit_code, read_adni, visit_code
from load_db.engine import LoadError
from load_db.engine.labels import dataset_conditions
from load_db.loni.collection import image_type, parse_loni_date
from tests.support.apps import data_counts
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    subject_conditions,
    visit_conditions,
    written,
)

ADNI = DATA_DIR / "ADNI"
HC, MCI, AD = "Healthy Control", "Mild Cognitive Impairment", "Alzheimer's Disease"
# ADNIMERGE's labels as this test expects them mapped (DX and DX_bl share one list).
EXPECTED_CONDITION = {"CN": HC, "SMC": HC, "MCI": MCI, "EMCI": MCI, "LMCI": MCI,
                      "Dementia": AD, "AD": AD}
# The series of the example's collection and the stored type of each (None: not stored).
EXPECTED_TYPE = {"MPRAGE": "T1", "Accelerated Sagittal MPRAGE": "T1", "Axial DTI": "DWI",
                 "Axial rsfMRI (Eyes Open)": "rsfMRI", "Axial PD/T2 FSE": None,
                 "Sagittal 3D FLAIR": None}
# ADNIMERGE column -> master measure, per visit; then the subject's own, from its bl row.
PER_VISIT = {"MMSE": "MMSE", "CDRSB": "CDR_SB", "ADAS11": "ADAS_COG11",
             "ADAS13": "ADAS_COG13", "MOCA": "MOCA", "FAQ": "FAQ"}
PER_SUBJECT = {"PTEDUCAT": "EDUCATION_YEARS", "APOE4": "APOE_E4"}


def merge() -> pd.DataFrame:
    """ADNIMERGE.csv with each row's visit id and day since the subject's bl EXAMDATE."""
    table = pd.read_csv(ADNI / "ADNIMERGE.csv", dtype=str, keep_default_na=False)
    exam = pd.to_datetime(table["EXAMDATE"], format="%Y-%m-%d")
    baseline = exam[table["VISCODE"] == "bl"].groupby(table["PTID"]).first()
    return table.assign(visit=table["PTID"] + "_" + table["VISCODE"],
                        day=(exam - table["PTID"].map(baseline)).dt.days)


def collection() -> pd.DataFrame:
    """The collection CSV's rows whose file was downloaded, with the expected type, visit
    code, file and day since baseline."""
    table = pd.read_csv(ADNI / "image_collection.csv", dtype=str, keep_default_na=False)
    files = {path.parent.name: path.relative_to(ADNI).as_posix()
             for path in ADNI.glob("images/*/*/*/I*/*.nii.gz")}
    visits = merge()
    baseline = pd.to_datetime(visits.loc[visits["VISCODE"] == "bl"].set_index("PTID")["EXAMDATE"])
    acquired = pd.to_datetime(table["Acq Date"], format="%m/%d/%Y")
    return table.assign(
        kind=table["Description"].map(EXPECTED_TYPE),
        code=table["Visit"].replace({"sc": "bl", "scmri": "bl"}),
        path=table["Image Data ID"].map(files),
        day=(acquired - table["Subject"].map(baseline)).dt.days,
    ).dropna(subset=["path"])


@pytest.mark.parametrize(("text", "code"), [("bl", "bl"), ("m06", "m06"), ("m120", "m120")])
def test_visit_codes(text, code):
    assert visit_code(text) == code


@pytest.mark.parametrize("text", ["sc", "M06", "m6", "month 6", "", "bl "])
def test_unknown_visit_code(text):
    if text == "bl ":   # cells are stripped: a trailing space is no error
        assert visit_code(text) == "bl"
        return
    with pytest.raises(ValueError, match="not a visit code"):
        visit_code(text)


@pytest.mark.parametrize(("text", "code"), [("sc", "bl"), ("scmri", "bl"), ("bl", "bl"),
                                            ("m12", "m12"), ("v02", None), ("init", None),
                                            ("y1", None)])
def test_screening_scans_belong_to_baseline(text, code):
    assert image_visit_code(text) == code


@pytest.mark.parametrize(("description", "kind"), [
    *EXPECTED_TYPE.items(), ("MPRAGE_ADNI_confirmed", "T1"), ("IR-SPGR", "T1"),
    ("Axial_DTI", "DWI"), ("Resting State fMRI", "rsfMRI"), ("Field Mapping", None), ("", None)])
def test_image_types_from_series_descriptions(description, kind):
    assert image_type(description) == kind


@pytest.mark.parametrize(("text", "day"), [("9/8/2005", date(2005, 9, 8)),
                                           ("09/08/2005", date(2005, 9, 8)), ("", None)])
def test_loni_dates(text, day):
    assert parse_loni_date(text) == day


@pytest.mark.parametrize("text", ["2005-09-08", "13/1/2005", "9/8/05"])
def test_bad_loni_dates(text):
    with pytest.raises(ValueError, match="not a date"):
        parse_loni_date(text)


def test_flask_load_adni_gives_what_pandas_computes(app, seeded):
    session = seeded
    result = flask_load(app, "ADNI")
    assert result.exit_code == 0, result.output
    table, images = merge(), collection()
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "ADNI"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == table["PTID"].nunique()
    assert count(session, Visit) == len(table)
    stored = images.dropna(subset=["kind"])
    assert image_types(session, dataset_id) == stored["kind"].value_counts().to_dict()
    # Conditions: DX per visit (a label outside the mapping or blank: none), DX_bl per subject.
    assert visit_conditions(session) == {
        visit: EXPECTED_CONDITION.get(dx)
        for visit, dx in zip(table["visit"], table["DX"], strict=True)}
    # Every visit keeps its raw DX, the one outside the mapping too (`flask harmonise` maps it
    # once the mapping does); only the mapped labels have a dataset_condition.
    assert dict(session.execute(select(Visit.external_id, Visit.condition_label)).all()) == {
        visit: dx or None for visit, dx in zip(table["visit"], table["DX"], strict=True)}
    assert set(session.scalars(select(DatasetCondition.source_label)
                               .where(DatasetCondition.dataset_id == dataset_id))) \
        == (set(table["DX"]) | set(table["DX_bl"])) & set(EXPECTED_CONDITION)
    first = table[table["VISCODE"] == "bl"]
    assert subject_conditions(session, dataset_id) == dict(
        zip(first["PTID"], first["DX_bl"].map(EXPECTED_CONDITION), strict=True))
    # Each image in its Visit's visit; one whose visit ADNIMERGE lacks, in the latest before it.
    expected_links = {}
    for image in stored.itertuples():
        visit = f"{image.Subject}_{image.code}"
        if visit not in set(table["visit"]):
            earlier = table[(table["PTID"] == image.Subject) & (table["day"] <= image.day)]
            visit = earlier.loc[earlier["day"].idxmax(), "visit"]
        expected_links[f"ADNI/{image.path}"] = visit
    assert image_visits(session, "ADNI/") == expected_links
    assert not set(stored["Subject"] + "_" + stored["code"]) <= set(table["visit"])
    subject = session.scalar(select(Subject).where(Subject.external_id == "022_S_4205"))
    row = first.set_index("PTID").loc["022_S_4205"]
    assert (subject.sex, subject.age_at_baseline, subject.education_years) \
        == (row["PTGENDER"].lower(), float(row["AGE"]), float(row["PTEDUCAT"]))
    days = dict(session.execute(select(Visit.external_id, Visit.days_since_baseline)).all())
    assert days == dict(zip(table["visit"], table["day"], strict=True))


def test_measures_equal_the_non_blank_cells(app, seeded):
    session = seeded
    load_example("ADNI")
    table = merge()
    rows = session.execute(
        select(Measure.designation, Visit.external_id, Assessment.value_number,
               Assessment.days_since_baseline)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)).all()
    found = pd.DataFrame(rows, columns=["measure", "visit", "value", "day"])
    expected = {measure: int((table[column] != "").sum()) for column, measure in PER_VISIT.items()}
    first = table[table["VISCODE"] == "bl"]
    expected |= {measure: int((first[column] != "").sum())
                 for column, measure in PER_SUBJECT.items()}
    assert found["measure"].value_counts().to_dict() == expected
    for column, measure in PER_VISIT.items():
        given = table[table[column] != ""]
        assert dict(zip(found.loc[found["measure"] == measure, "visit"],
                        found.loc[found["measure"] == measure, "value"], strict=True)) \
            == dict(zip(given["visit"], given[column].astype(float), strict=True)), measure
    apoe = dict(session.execute(
        select(Subject.external_id, Assessment.value_number)
        .join(Assessment, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .where(Measure.designation == "APOE_E4")).all())
    assert apoe == dict(zip(first["PTID"], first["APOE4"].astype(float), strict=True))


def test_loading_twice_writes_nothing_and_the_report_names_what_was_left_out(app, seeded):
    report = load_example("ADNI")
    table = merge()
    assert written(report)["visit"] == len(table)
    assert report.notes["diagnosis label outside mapping.yaml: left without a condition: "
                        "MCI to Dementia"] == 1
    listed = pd.read_csv(ADNI / "image_collection.csv", dtype=str)
    not_stored = listed["Description"].map(EXPECTED_TYPE).isna()
    assert sum(n for reason, n in report.ignored.items()
               if reason.startswith("not an MBID image type")) == int(not_stored.sum())
    assert report.ignored["image of the collection CSV with no file in the download"] \
        == len(listed) - len(collection())
    assert written(load_example("ADNI")) == {}


def test_strict_mode_stops_at_a_label_outside_the_mapping():
    table = merge()
    row = int(table.index[table["DX"] == "MCI to Dementia"][0]) + 2
    with pytest.raises(LoadError, match=re.escape(f"ADNIMERGE.csv, row {row}, column 'DX'")):
        dataset_conditions(read_adni(ADNI), strict=True)


def test_flask_load_strict_stops_at_it_and_writes_nothing(app, seeded):
    table = merge()
    row = int(table.index[table["DX"] == "MCI to Dementia"][0]) + 2
    before = data_counts()
    result = flask_load(app, "ADNI", None, "--strict")
    assert result.exit_code == 2, result.output
    assert (f"ADNIMERGE.csv, row {row}, column 'DX': unknown diagnosis label 'MCI to "
            "Dementia' (outside mapping.yaml): no value or rule of the mapping maps it (nothing "
            "was written)") in result.output
    assert data_counts() == before


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("ADNIMERGE.csv", ",MOCA,FAQ,DX\n", ",MOCA,FAQ,DIAGNOSIS\n",
     "ADNIMERGE.csv, row 1, column 'DX'"),
    ("ADNIMERGE.csv", "011_S_0003,11,bl,2005-09-12,AD,81.3,Male",
     "011_S_0003,11,bl,2005-09-12,AD,81.3,M", "ADNIMERGE.csv, row 6, column 'PTGENDER'"),
    ("ADNIMERGE.csv", "011_S_0002,11,m06,2006-03-09", "011_S_0002,11,m06,2006-03-32",
     "ADNIMERGE.csv, row 3, column 'EXAMDATE'"),
    ("ADNIMERGE.csv", "011_S_0002,11,m06,", "011_S_0002,11,month6,",
     "ADNIMERGE.csv, row 3, column 'VISCODE'"),
    ("image_collection.csv", "8/25/2005", "2005-08-25",
     "image_collection.csv, row 2, column 'Acq Date'"),
    ("image_collection.csv", ",m12,MRI,MPRAGE,", ",Month 12,MRI,MPRAGE,",
     "image_collection.csv, row 4, column 'Visit'"),
])
def test_malformed_input_is_an_error_naming_the_cell(tmp_path, file, old, new, where):
    assert_read_names_the_cell(tmp_path, "ADNI", read_adni, file, old, new, where)


def test_a_failed_load_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(
        app, "ADNI", "ADNI", "ADNIMERGE.csv", "011_S_0003,11,bl,2005-09-12,AD,81.3,Male",
        "011_S_0003,11,bl,2005-09-12,AD,81.3,Man", "ADNIMERGE.csv, row 6, column 'PTGENDER'",
        tmp_path)
