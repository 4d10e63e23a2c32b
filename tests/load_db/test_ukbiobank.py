"""UK Biobank: ICD-10 diagnoses, instances as visits, bulk files, and loading the bundled example
on both databases.

Expected rows are computed here with pandas from data/UKBiobank's files, by the rules of the
package's docstring, not through the loader.
"""
import re

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Image, Measure, Scanner, Subject, Visit
from globals import DATA_DIR
from load_db.engine.mapping import read_mapping
from load_db.UKBiobank.read import MAPPING, condition_label, read_ukbiobank, to_date
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

FOLDER = DATA_DIR / "UKBiobank"
AD, DU, PD = "Alzheimer's Disease", "Dementia Unspecified", "Parkinson's Disease"
CATEGORIES = {"G30": AD, "F00": AD, "F01": DU, "F03": DU, "G20": PD, "G10": "Huntington's Disease"}
TYPES = {"20252": "T1", "20250": "DWI", "20227": "rsfMRI"}
PER_VISIT = {"21001": "BMI", "50": "HEIGHT", "21002": "WEIGHT"}
HANDS = {"1": "right", "2": "left", "3": "ambidextrous"}
MISSING = {"", "-1", "-3"}
UNPACKED = re.compile(r"(\d+)_(\d+)_(\d+)_\d+")


@pytest.mark.parametrize(("codes", "label"), [
    (["G309"], "ICD-10 G30"), (["I10", "G309"], "ICD-10 G30"), (["G20"], "ICD-10 G20"),
    (["F03"], "ICD-10 F03"), (["F009", "G301"], "ICD-10 F00"),   # both Alzheimer's disease
    (["G20", "G309"], None),                                     # two conditions: unknown
    (["E119", "K21"], None), ([], None)])
def test_icd10_codes_give_one_label_or_none(codes, label):
    assert condition_label(codes, read_mapping(MAPPING))[0] == label


def test_dates():
    assert str(to_date("2015-06-20")) == "2015-06-20" and to_date("") is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        to_date("20/06/2015")


# --- malformed input: the reader names the file, row and column ---------------------------------

@pytest.mark.parametrize(("old", "new", "where"), [
    (",21003-0.0,", ",21003-0.1,", "row 1, column '21003-0.0'"),
    ("1000027,1,1945", "1000027,2,1945", "row 3, column '31-0.0'"),
    ("2015-06-20", "2015-13-20", "row 2, column '53-2.0'"),
    ("I10,G309", "I10,Alzheimer", "row 2, column '41270-0.1'"),
    ("22.994,1,16", "22.994,7,16", "row 2, column '1707-0.0'"),
    ("16.0171,,,,,,", "16.0171,,,,,25.1,", "row 2, column '21001-1.0'"),   # not attended
])
def test_malformed_input_names_file_row_and_column(tmp_path, old, new, where):
    assert_read_names_the_cell(tmp_path, "UKBiobank", read_ukbiobank, "ukb_main.csv", old, new,
                               f"ukb_main.csv, {where}")


# --- the example, read with pandas -------------------------------------------------------------

def main() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "ukb_main.csv", dtype=str, keep_default_na=False)


def attended(table: pd.DataFrame) -> dict[str, int]:
    """{visit external_id: days since instance 0} of every dated instance."""
    days = {}
    for row in table.to_dict("records"):
        start = pd.Timestamp(row["53-0.0"])
        for instance in range(4):
            if row.get(f"53-{instance}.0"):
                days[f"{row['eid']}_{instance}"] = (pd.Timestamp(row[f"53-{instance}.0"])
                                                    - start).days
    return days


def bulk_images() -> dict[str, tuple[str, str]]:
    """{NIfTI path under bulk/: (type, visit)} of the unpacked bulk folders of stored fields."""
    found = {}
    for folder in sorted((FOLDER / "bulk").iterdir()):
        match = UNPACKED.fullmatch(folder.name)
        if folder.is_dir() and match and match[2] in TYPES:
            [nifti] = folder.rglob("*.nii.gz")
            found[nifti.relative_to(FOLDER).as_posix()] = (TYPES[match[2]],
                                                           f"{match[1]}_{match[3]}")
    return found


def expected_conditions(table: pd.DataFrame) -> dict[str, str | None]:
    conditions = {}
    for row in table.to_dict("records"):
        codes = [row[name] for name in table.columns if name.startswith("41270-") and row[name]]
        mapped = {CATEGORIES[code[:3]] for code in codes if code[:3] in CATEGORIES}
        conditions[row["eid"]] = mapped.pop() if len(mapped) == 1 else None
    return conditions


def expected_measures(table: pd.DataFrame) -> dict[tuple[str, str], object]:
    """{(visit, measure): value}; per-subject values sit at the instance-0 visit (day 0)."""
    expected = {}
    for row in table.to_dict("records"):
        for field, measure in PER_VISIT.items():
            for instance in range(4):
                if row[f"{field}-{instance}.0"] not in MISSING:
                    expected[f"{row['eid']}_{instance}", measure] = float(
                        row[f"{field}-{instance}.0"])
        if row["1707-0.0"] not in MISSING:
            expected[f"{row['eid']}_0", "HANDEDNESS"] = HANDS[row["1707-0.0"]]
        if row["845-0.0"] not in MISSING:
            age = 5 if row["845-0.0"] == "-2" else float(row["845-0.0"])   # never went: 0
            expected[f"{row['eid']}_0", "EDUCATION_YEARS"] = age - 5
    return expected


def test_flask_load_ukbiobank_gives_what_pandas_computes(app, seeded):
    session = seeded
    result = flask_load(app, "UK Biobank")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "UK Biobank"))
    table = main()
    assert count(session, Subject, Subject.dataset_id == dataset_id) == len(table)
    days = attended(table)
    assert dict(session.execute(select(Visit.external_id, Visit.days_since_baseline)).all()) \
        == days
    images = bulk_images()
    assert image_types(session, dataset_id) \
        == pd.Series([kind for kind, _ in images.values()]).value_counts().to_dict()
    assert image_visits(session, "UK Biobank/") == {f"UK Biobank/{path}": visit
                                                    for path, (_, visit) in images.items()}
    assert subject_conditions(session, dataset_id) == expected_conditions(table)
    subjects = {s.external_id: (s.sex, s.handedness, s.age_at_baseline, s.metadata_json)
                for s in session.scalars(select(Subject))}
    assert {eid: value[:3] for eid, value in subjects.items()} == {
        row["eid"]: ({"0": "female", "1": "male"}[row["31-0.0"]],
                     HANDS.get(row["1707-0.0"], "unknown"), float(row["21003-0.0"]))
        for row in table.to_dict("records")}
    assert subjects["1000015"][3] == {"year_of_birth": 1950}
    scanner = session.scalar(select(Scanner).where(Scanner.dataset_id == dataset_id))
    assert (scanner.manufacturer, scanner.model, scanner.field_strength) \
        == ("Siemens", "Skyra", 3.0)
    t1 = session.scalar(select(Image).where(Image.path.endswith("1000015_20252_2_0/T1/"
                                                                 "T1_orig_defaced.nii.gz")))
    assert (t1.metadata_json["ukb_field"], t1.metadata_json["RepetitionTime"]) == (20252, 2.0)

    stored = session.execute(
        select(Visit.external_id, Measure.designation, Assessment.value_number,
               Assessment.value_text)
        .join(Visit, Assessment.visit_id == Visit.id)
        .join(Measure, Assessment.measure_id == Measure.id)).all()
    found = {(visit, measure): number if text is None else text
             for visit, measure, number, text in stored}
    expected = expected_measures(table)
    assert found.keys() == expected.keys()
    assert found == {key: pytest.approx(value) if isinstance(value, float) else value
                     for key, value in expected.items()}
    assert found["1000063_0", "EDUCATION_YEARS"] == 0.0   # -2: never went to school
    assert ("1000034_0", "EDUCATION_YEARS") not in found  # -3: prefer not to answer


def test_the_report_and_loading_twice(app, seeded):
    first = load_example("UK Biobank")
    assert dict(first.ignored) == {
        "bulk field not an MBID image type: 20253 (T2 FLAIR)": 1,
        "bulk zip not unpacked (unzip it into the folder of its name)": 1}
    assert first.notes["no ICD-10 code the mapping maps: condition left unknown"] == 2
    assert first.notes["ICD-10 codes mapping to several conditions: condition left unknown"] == 1
    assert written(first)["image"] == len(bulk_images())
    assert written(load_example("UK Biobank")) == {}


def test_a_broken_file_changes_nothing(app, seeded, tmp_path):
    assert_broken_input_changes_nothing(
        app, "UK Biobank", "UKBiobank", "ukb_main.csv", "2015-06-20", "2015-13-20",
        "ukb_main.csv, row 2, column '53-2.0'", tmp_path)


def test_the_subject_script_runs_from_any_directory(database_url, app, seeded, tmp_path):
    result = run_script("UKBiobank", "load_subject.py", database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    seeded.expire_all()
    assert count(seeded, Subject) == len(pd.read_csv(FOLDER / "ukb_main.csv"))
