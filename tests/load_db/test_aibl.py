"""AIBL: visit codes, years of birth, and loading the bundled example (the ADNI-style clinical
tables and the IDA image collection) on both databases, checked against pandas over its files."""
import re

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Measure, Subject, Visit
from globals import DATA_DIR
from load_db.AIBL.read import birth_year, image_visit_code, read_aibl, visit_code
from load_db.engine import LoadError
from load_db.engine.labels import dataset_conditions
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_read_names_the_cell,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    visit_conditions,
    written,
)

AIBL = DATA_DIR / "AIBL"
# DXCURREN as this test expects it mapped (-4: not available; other codes: outside).
EXPECTED_CONDITION = {"1": "Healthy Control", "2": "Mild Cognitive Impairment",
                      "3": "Alzheimer's Disease"}
VISIT_NAMES = {"Baseline": "bl", "18 Month": "m18", "36 Month": "m36", "54 Month": "m54",
               "72 Month": "m72"}
MEASURES = {"aibl_mmse.csv": ("MMSCORE", "MMSE"), "aibl_cdr.csv": ("CDGLOBAL", "CDR_GLOBAL")}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(AIBL / name, dtype=str, keep_default_na=False)


def clinical() -> pd.DataFrame:
    """The MMSE table with each row's visit id and day since the subject's bl EXAMDATE."""
    table = read("aibl_mmse.csv")
    exam = pd.to_datetime(table["EXAMDATE"], format="%m/%d/%Y")
    baseline = exam[table["VISCODE"] == "bl"].groupby(table["RID"]).first()
    return table.assign(visit=table["RID"] + "_" + table["VISCODE"],
                        day=(exam - table["RID"].map(baseline)).dt.days)


def collection() -> pd.DataFrame:
    """The collection's downloaded MPRAGE rows, with their file, visit and day."""
    table = read("image_collection.csv")
    files = {path.parent.name: path.relative_to(AIBL).as_posix()
             for path in AIBL.glob("images/*/*/*/I*/*.nii.gz")}
    visits = clinical()
    baseline = pd.to_datetime(visits.loc[visits["VISCODE"] == "bl"].set_index("RID")["EXAMDATE"],
                              format="%m/%d/%Y")
    acquired = pd.to_datetime(table["Acq Date"], format="%m/%d/%Y")
    return table.assign(path=table["Image Data ID"].map(files),
                        visit=table["Subject"] + "_" + table["Visit"].map(VISIT_NAMES),
                        day=(acquired - table["Subject"].map(baseline)).dt.days)


@pytest.mark.parametrize(("text", "year"), [("/1936", 1936), ("1936", 1936), ("", None),
                                            ("-4", None)])
def test_birth_years(text, year):
    assert birth_year(text) == year


@pytest.mark.parametrize("text", ["/36", "03/1936", "1836", "unknown"])
def test_bad_birth_years(text):
    with pytest.raises(ValueError, match="not a year of birth"):
        birth_year(text)


@pytest.mark.parametrize(("text", "code"), [*VISIT_NAMES.items()])
def test_image_visit_names(text, code):
    assert image_visit_code(text) == code


@pytest.mark.parametrize("text", ["Base", "18 Mo", "2", "m18"])
def test_unknown_image_visit_names(text):
    with pytest.raises(ValueError, match="unknown value"):
        image_visit_code(text)


@pytest.mark.parametrize(("text", "ok"), [("bl", True), ("m18", True), ("m72", True),
                                          ("sc", False), ("18", False), ("M18", False)])
def test_visit_codes(text, ok):
    if ok:
        assert visit_code(text) == text
    else:
        with pytest.raises(ValueError, match="not a visit code"):
            visit_code(text)


def test_flask_load_aibl_gives_what_pandas_computes(app, seeded):
    session = seeded
    result = flask_load(app, "AIBL")
    assert result.exit_code == 0, result.output
    demography, visits, images = read("aibl_ptdemog.csv"), clinical(), collection()
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "AIBL"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(demography)
    assert count(session, Visit) == len(visits)
    stored = images[images["Description"].str.contains("MPRAGE") & images["path"].notna()]
    assert image_types(session, dataset_id) == {"T1": len(stored)}
    diagnoses = read("aibl_pdxconv.csv")
    assert visit_conditions(session) == {
        f"{rid}_{code}": EXPECTED_CONDITION.get(dx) for rid, code, dx in zip(
            diagnoses["RID"], diagnoses["VISCODE"], diagnoses["DXCURREN"], strict=True)}
    expected_links = {}
    for image in stored.itertuples():
        visit = image.visit
        if visit not in set(visits["visit"]):   # no clinical rows: the latest visit before
            earlier = visits[(visits["RID"] == image.Subject) & (visits["day"] <= image.day)]
            visit = earlier.loc[earlier["day"].idxmax(), "visit"]
        expected_links[f"AIBL/{image.path}"] = visit
    assert image_visits(session, "AIBL/") == expected_links
    days = dict(session.execute(select(Visit.external_id, Visit.days_since_baseline)).all())
    assert days == dict(zip(visits["visit"], visits["day"], strict=True))
    # Age at baseline: the baseline year minus the year of birth; sex 1 male, 2 female.
    baseline_year = pd.to_datetime(visits.loc[visits["VISCODE"] == "bl"].set_index("RID")[
        "EXAMDATE"], format="%m/%d/%Y").dt.year
    subjects = {s.external_id: (s.sex, s.age_at_baseline)
                for s in session.scalars(select(Subject).where(Subject.dataset_id == dataset_id))}
    assert subjects == {
        rid: ({"1": "male", "2": "female"}[sex], float(baseline_year[rid] - int(born[1:])))
        for rid, sex, born in zip(demography["RID"], demography["PTGENDER"],
                                  demography["PTDOB"], strict=True)}


def test_measures_equal_the_available_cells_and_a_second_load_writes_nothing(app, seeded):
    session = seeded
    report = load_example("AIBL")
    rows = session.execute(
        select(Measure.designation, Visit.external_id, Assessment.value_number)
        .join(Measure, Assessment.measure_id == Measure.id)
        .join(Visit, Assessment.visit_id == Visit.id)).all()
    for name, (column, measure) in MEASURES.items():
        table = read(name)
        given = table[~table[column].isin(["", "-4"])]
        assert {visit: value for m, visit, value in rows if m == measure} == dict(zip(
            given["RID"] + "_" + given["VISCODE"], given[column].astype(float), strict=True))
    assert report.notes["diagnosis label outside mapping.yaml: left without a condition: 7"] \
        == 1
    assert report.ignored["not an MBID image type: Axial FLAIR"] == 1
    assert written(load_example("AIBL")) == {}


def test_strict_mode_stops_at_a_code_outside_the_mapping():
    diagnoses = read("aibl_pdxconv.csv")
    row = int(diagnoses.index[diagnoses["DXCURREN"] == "7"][0]) + 2
    with pytest.raises(LoadError,
                       match=re.escape(f"aibl_pdxconv.csv, row {row}, column 'DXCURREN'")):
        dataset_conditions(read_aibl(AIBL), strict=True)


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("aibl_mmse.csv", "EXAMDATE,MMSCORE", "EXAMDATE,MMSE",
     "aibl_mmse.csv, row 1, column 'MMSCORE'"),
    ("aibl_ptdemog.csv", "2,1,bl,1,/1925", "2,1,bl,3,/1925",
     "aibl_ptdemog.csv, row 3, column 'PTGENDER'"),
    ("aibl_mmse.csv", "03/12/2007", "2007-03-12", "aibl_mmse.csv, row 2, column 'EXAMDATE'"),
    ("aibl_cdr.csv", "1,1,m18,", "1,1,18,", "aibl_cdr.csv, row 3, column 'VISCODE'"),
    ("aibl_ptdemog.csv", "5,1,bl,2,/1940", "9,1,bl,2,/1940",   # RID 5's visits, no subject
     "aibl_mmse.csv, row 15, column 'RID'"),
    ("image_collection.csv", ",36 Month,", ",36 Mo,",
     "image_collection.csv, row 3, column 'Visit'"),
])
def test_malformed_input_is_an_error_naming_the_cell(tmp_path, file, old, new, where):
    assert_read_names_the_cell(tmp_path, "AIBL", read_aibl, file, old, new, where)


def test_a_failed_load_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(app, "AIBL", "AIBL", "aibl_mmse.csv", "03/12/2007",
                                        "03/32/2007", "aibl_mmse.csv, row 2, column 'EXAMDATE'",
                                        tmp_path)
