"""OASIS-3: diagnosis (mapping.yaml), BMI and ID mappings, and loading the bundled example on
both databases."""
import hashlib

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import (
    Assessment,
    Condition,
    Dataset,
    DatasetCondition,
    Image,
    Measure,
    Scanner,
    Subject,
    Visit,
)
from globals import DATA_DIR
from load_db.engine.cells import from_table, to_float
from load_db.engine.mapping import read_mapping
from load_db.OASIS.read import (
    MAPPING,
    SEX,
    bmi,
    condition_label,
    parse_clinical_id,
    read_clinical,
    session_days,
    to_cdr,
)
from tests.support.apps import data_counts
from tests.support.examples import (
    assert_scripts_run_from_anywhere,
    copy_example,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    replace_in,
    run_script,
    visit_conditions,
    written,
)

OASIS_MAPPING = read_mapping(MAPPING)
HAND = OASIS_MAPPING.source("HANDEDNESS", "Hand").values
HC, MCI, AD, DU = ("Healthy Control", "Mild Cognitive Impairment", "Alzheimer's Disease",
                   "Dementia Unspecified")


@pytest.mark.parametrize(("cdr", "dx1", "expected"), [
    (0.0, "Cognitively normal", HC),
    (0.0, "AD Dementia", HC),                      # CDR decides below 1, whatever dx1 says
    (0.5, "uncertain dementia", MCI),
    (0.5, "AD Dementia", MCI),
    (1.0, "AD Dementia", AD),
    (2.0, "DAT", AD),                              # dementia of the Alzheimer type
    (3.0, "DAT w/depresss not contribut", AD),
    (1.0, "AD dem w/depresss- not contribut", AD),
    (1.0, "uncertain, possible AD", AD),
    (1.0, ".", AD),                                # OASIS's blank on a dementia visit
    (1.0, "Non AD dem- Other primary", DU),
    (2.0, "uncertain- possible NON AD dem", DU),
    (1.0, "no AD", DU),
    (1.0, "non AD", DU),
    (1.0, "Vascular Demt- primary", DU),
    (1.0, "Frontotemporal demt. prim", DU),
    (1.0, "ADHD", DU),                             # AD must be a word of its own
    (1.0, "", DU),
    (1.0, None, DU),
    (None, "AD Dementia", None),                   # no CDR: unknown
    (None, None, None),
])
def test_the_mapping_maps_cdr_and_dx1_as_get_oasis_dx_did(cdr, dx1, expected):
    label = condition_label(cdr, dx1)
    assert (None if label is None else OASIS_MAPPING.condition_for(label)) == expected


@pytest.mark.parametrize(("cdr", "dx1", "label"), [
    (0.0, "Cognitively normal", "cdr 0; dx1 Cognitively normal"),
    (0.5, "uncertain dementia", "cdr 0.5; dx1 uncertain dementia"),
    (1.0, ".", "cdr 1; dx1 ."),
    (2.0, None, "cdr 2; dx1"),
    (None, "AD Dementia", None),
])
def test_condition_label(cdr, dx1, label):
    assert condition_label(cdr, dx1) == label


@pytest.mark.parametrize(("weight", "height", "expected"), [
    (150.0, 65.0, 703 * 150 / 65**2),
    (214.0, 61.0, 703 * 214 / 61**2),
    (None, 65.0, None),
    (150.0, None, None),
    (None, None, None),
    (150.0, 0.0, None),   # a zero height is not a measurement
])
def test_bmi(weight, height, expected):
    assert bmi(weight, height) == expected


def test_bmi_value():
    assert round(bmi(150.0, 65.0), 2) == 24.96


@pytest.mark.parametrize(("text", "expected"), [
    ("OAS30001_ClinicalData_d0000", ("OAS30001", 0)),
    ("OAS30001_ClinicalData_d0339", ("OAS30001", 339)),
    ("OAS31172_ClinicalData_d12045", ("OAS31172", 12045)),
])
def test_parse_clinical_id(text, expected):
    assert parse_clinical_id(text) == expected


@pytest.mark.parametrize("text", [
    "OAS30001_ClinicalData", "OAS30001_MR_d0129", "OAS30001_ClinicalData_d",
    "oas30001_ClinicalData_d0000", "OAS30001_ClinicalData_d0000 extra", "",
    "OAS20001_ClinicalData_d0000",
])
def test_parse_clinical_id_rejects(text):
    with pytest.raises(ValueError, match="not an OASIS-3 clinical data ID"):
        parse_clinical_id(text)


@pytest.mark.parametrize(("label", "days"), [("d0000", 0), ("d0129", 129), ("d1500", 1500)])
def test_session_days(label, days):
    assert session_days(label) == days


@pytest.mark.parametrize("label", ["ses-d0129", "0129", "", None, "d12a", "baseline"])
def test_session_days_rejects(label):
    with pytest.raises(ValueError, match="not an OASIS-3 MR session label"):
        session_days(label)


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0.0), ("0.5", 0.5), ("1", 1.0), ("2.0", 2.0), ("3", 3.0), ("", None)])
def test_to_cdr(text, expected):
    assert to_cdr(text) == expected


@pytest.mark.parametrize("text", ["0.25", "4", "-1", "abc", "inf"])
def test_to_cdr_rejects(text):
    with pytest.raises(ValueError):
        to_cdr(text)


def test_missing_values_stay_unknown_never_the_previous_rows():
    clinical = read_clinical(DATA_DIR / "OASIS").set_index("external_id")
    measured = clinical[["height", "weight"]]
    assert measured.loc["OAS30006_ClinicalData_d0000"].tolist() == [62.0, 192.0]
    assert measured.loc["OAS30006_ClinicalData_d0512"].tolist() == [None, None]
    assert measured.loc["OAS30003_ClinicalData_d0035"].tolist() == [None, 210.0]
    assert clinical.loc["OAS30013_ClinicalData_d0000", ["mmse", "cdr", "dx1"]].tolist() \
        == [None, None, None]
    assert clinical.loc["OAS30013_ClinicalData_d0366", ["mmse", "cdr", "dx1"]].tolist() \
        == [25, 1.0, "AD Dementia"]
    assert to_float("") is None


@pytest.mark.parametrize(("table", "code", "value"), [
    (SEX, "F", "female"), (SEX, "M", "male"), (SEX, "", "unknown"),
    (HAND, "R", "right"), (HAND, "L", "left"), (HAND, "B", "ambidextrous"), (HAND, "", "unknown"),
])
def test_sex_and_hand_codes(table, code, value):
    assert from_table(table, empty="unknown")(code) == value


@pytest.mark.parametrize(("table", "code"), [(SEX, "f"), (SEX, "U"), (HAND, "A"), (HAND, "right")])
def test_unknown_sex_or_hand_code_is_an_error(table, code):
    with pytest.raises(ValueError, match=f"unknown value {code!r}"):
        from_table(table, empty="unknown")(code)


# --- loading the example -----------------------------------------------------------------------

# (image path under OASIS/bids/, the clinical visit it belongs to or None), for every image.
IMAGE_VISITS = [
    ("sub-OAS30001/ses-d0129/anat/sub-OAS30001_ses-d0129_T1w.nii.gz",
     "OAS30001_ClinicalData_d0000"),
    ("sub-OAS30001/ses-d0129/dwi/sub-OAS30001_ses-d0129_dwi.nii.gz",
     "OAS30001_ClinicalData_d0000"),
    ("sub-OAS30001/ses-d0757/anat/sub-OAS30001_ses-d0757_T1w.nii.gz",
     "OAS30001_ClinicalData_d0339"),
    ("sub-OAS30002/ses-d0400/anat/sub-OAS30002_ses-d0400_T1w.nii.gz",
     "OAS30002_ClinicalData_d0400"),
    ("sub-OAS30002/ses-d0512/anat/sub-OAS30002_ses-d0512_T1w.nii.gz",
     "OAS30002_ClinicalData_d0400"),
    ("sub-OAS30003/ses-d0000/anat/sub-OAS30003_ses-d0000_T1w.nii.gz",
     None),
    ("sub-OAS30003/ses-d0420/anat/sub-OAS30003_ses-d0420_T1w.nii.gz",
     "OAS30003_ClinicalData_d0400"),
    ("sub-OAS30004/ses-d0000/anat/sub-OAS30004_ses-d0000_T1w.nii.gz",
     "OAS30004_ClinicalData_d0000"),
    ("sub-OAS30004/ses-d0000/func/sub-OAS30004_ses-d0000_task-rest_run-01_bold.nii.gz",
     "OAS30004_ClinicalData_d0000"),
    ("sub-OAS30004/ses-d0098/anat/sub-OAS30004_ses-d0098_T1w.nii.gz",
     "OAS30004_ClinicalData_d0000"),
    ("sub-OAS30004/ses-d0251/anat/sub-OAS30004_ses-d0251_T1w.nii.gz",
     "OAS30004_ClinicalData_d0000"),
    ("sub-OAS30004/ses-d0613/anat/sub-OAS30004_ses-d0613_T1w.nii.gz",
     "OAS30004_ClinicalData_d0000"),
    ("sub-OAS30005/ses-d0010/anat/sub-OAS30005_ses-d0010_T1w.nii.gz",
     "OAS30005_ClinicalData_d0000"),
    ("sub-OAS30007/ses-d0100/anat/sub-OAS30007_ses-d0100_T1w.nii.gz",
     "OAS30007_ClinicalData_d0000"),
    ("sub-OAS30008/ses-d0200/anat/sub-OAS30008_ses-d0200_T1w.nii.gz",
     "OAS30008_ClinicalData_d0180"),
    ("sub-OAS30009/ses-d0400/anat/sub-OAS30009_ses-d0400_T1w.nii.gz",
     "OAS30009_ClinicalData_d0400"),
    ("sub-OAS30010/ses-d0000/anat/sub-OAS30010_ses-d0000_T1w.nii.gz",
     "OAS30010_ClinicalData_d0000"),
    ("sub-OAS30010/ses-d1500/anat/sub-OAS30010_ses-d1500_T1w.nii.gz",
     "OAS30010_ClinicalData_d0000"),
    ("sub-OAS30011/ses-d0365/anat/sub-OAS30011_ses-d0365_T1w.nii.gz",
     "OAS30011_ClinicalData_d0000"),
    ("sub-OAS30012/ses-d0000/anat/sub-OAS30012_ses-d0000_T1w.nii.gz",
     None),
    ("sub-OAS30013/ses-d0366/anat/sub-OAS30013_ses-d0366_run-01_T1w.nii.gz",
     "OAS30013_ClinicalData_d0366"),
    ("sub-OAS30013/ses-d0366/anat/sub-OAS30013_ses-d0366_run-02_T1w.nii.gz",
     "OAS30013_ClinicalData_d0366"),
    ("sub-OAS30014/ses-d0040/anat/sub-OAS30014_ses-d0040_T1w.nii.gz",
     "OAS30014_ClinicalData_d0000"),
]



def test_flask_load_oasis_gives_the_exact_rows(app, seeded):
    session = seeded
    result = flask_load(app, "OASIS")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "OASIS"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == 14
    assert count(session, Visit) == 24
    assert image_types(session, dataset_id) == {"T1": 21, "DWI": 1, "rsfMRI": 1}
    assert count(session, Scanner, Scanner.dataset_id == dataset_id) == 3
    assert count(session, DatasetCondition, DatasetCondition.dataset_id == dataset_id) == 15
    assert image_visits(session, "OASIS/") == {f"OASIS/bids/{path}": visit
                                                  for path, visit in IMAGE_VISITS}


def test_subjects_visits_and_images_carry_the_mapped_values(app, seeded):
    session = seeded
    report = load_example("OASIS")
    assert dict(report.ignored) == {"not an MBID image type: anat/FLAIR": 1,
                                    "not an MBID image type: anat/T2w": 1}
    assert sum(report.notes.values()) == 2   # the two images with no clinical visit before them
    subjects = {s.external_id: (s.sex, s.handedness, s.education_years, s.age_at_baseline,
                                s.condition_id)
                for s in session.scalars(select(Subject))}
    assert subjects["OAS30001"] == ("female", "right", 12.0, 65.2, None)
    assert subjects["OAS30004"] == ("female", "left", 14.0, 77.0, None)
    assert subjects["OAS30007"] == ("male", "ambidextrous", 12.0, 80.5, None)
    assert subjects["OAS30012"] == ("male", "left", 17.0, None, None)   # no clinical data
    conditions = visit_conditions(session)
    assert conditions == {
        "OAS30001_ClinicalData_d0000": HC, "OAS30001_ClinicalData_d0339": HC,
        "OAS30001_ClinicalData_d1106": MCI, "OAS30002_ClinicalData_d0000": MCI,
        "OAS30002_ClinicalData_d0400": AD, "OAS30003_ClinicalData_d0035": HC,
        "OAS30003_ClinicalData_d0400": HC, "OAS30004_ClinicalData_d0000": AD,
        "OAS30004_ClinicalData_d0730": AD, "OAS30005_ClinicalData_d0000": DU,
        "OAS30005_ClinicalData_d0365": DU, "OAS30006_ClinicalData_d0000": HC,
        "OAS30006_ClinicalData_d0512": HC, "OAS30007_ClinicalData_d0000": AD,
        "OAS30008_ClinicalData_d0000": MCI, "OAS30008_ClinicalData_d0180": AD,
        "OAS30009_ClinicalData_d0000": DU, "OAS30009_ClinicalData_d0400": DU,
        "OAS30010_ClinicalData_d0000": HC, "OAS30011_ClinicalData_d0000": MCI,
        "OAS30011_ClinicalData_d0370": AD, "OAS30013_ClinicalData_d0000": None,
        "OAS30013_ClinicalData_d0366": AD, "OAS30014_ClinicalData_d0000": HC,
    }
    visits = {v.external_id: v for v in session.scalars(select(Visit))}
    first = visits["OAS30001_ClinicalData_d0000"]
    assert (first.days_since_baseline, first.symptoms) \
        == (0, {"mmse": 29, "cdr": 0.0, "dx1": "Cognitively normal"})
    assert first.bmi == pytest.approx(703 * 214 / 61**2)
    assert visits["OAS30001_ClinicalData_d1106"].days_since_baseline == 1106
    assert visits["OAS30006_ClinicalData_d0512"].bmi is None
    assert visits["OAS30003_ClinicalData_d0035"].bmi is None
    assert visits["OAS30013_ClinicalData_d0000"].symptoms \
        == {"mmse": None, "cdr": None, "dx1": None}
    image = session.scalar(select(Image)
                           .where(Image.path.endswith("sub-OAS30003_ses-d0000_T1w.nii.gz")))
    assert (image.days_since_baseline, image.scanner.model, image.scanner.field_strength) \
        == (0, "Sonata", 1.5)
    on_disk = DATA_DIR / "OASIS" / image.path.removeprefix("OASIS/")
    assert image.file_size == on_disk.stat().st_size
    labels = dict(session.execute(select(DatasetCondition.source_label,
                                         DatasetCondition.condition_id)).all())
    assert len(labels) == 15 and "cdr 1; dx1 ." in labels


def test_loading_twice_changes_nothing(app, seeded):
    first = load_example("OASIS")
    assert written(first) == {"subject": 14, "visit": 24, "image": 23, "scanner": 3,
                              "dataset_condition": 15, "assessment": 139}
    second = load_example("OASIS")
    assert written(second) == {}
    assert second.counts("image").unchanged == 23


def oasis_measures_by_pandas() -> dict[tuple[str, str, int], tuple[object, str | None, str]]:
    """{(subject, measure, day): (value, visit, source column)} of the example's CSVs, read
    with pandas here (not through the loader) and converted as the contract says."""
    clinical = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv")
    expected = {}
    for row in clinical.itertuples():
        visit = row._1  # the ID column
        day = int(visit.rsplit("_d", 1)[1])
        values = {"MMSE": (row.mmse, "mmse"), "CDR_GLOBAL": (row.cdr, "cdr"),
                  "HEIGHT": (row.height * 2.54, "height"),
                  "WEIGHT": (row.weight * 0.45359237, "weight"),
                  "BMI": (703 * row.weight / row.height**2, "bmi")}
        for measure, (value, column) in values.items():
            if pd.notna(value):
                expected[row.Subject, measure, day] = (float(value), visit, column)
    subjects = pd.read_csv(DATA_DIR / "OASIS" / "OASIS3_subjects.csv", keep_default_na=False)
    hands = {"R": "right", "L": "left", "B": "ambidextrous"}
    for row in subjects.itertuples():
        first_visit = clinical.loc[(clinical["Subject"] == row.Subject)
                                   & clinical.iloc[:, 0].str.endswith("_d0000")].iloc[:, 0]
        visit = first_visit.iloc[0] if len(first_visit) else None
        if row.Education != "":
            expected[row.Subject, "EDUCATION_YEARS", 0] = (float(row.Education), visit,
                                                           "Education")
        if row.Hand != "":
            expected[row.Subject, "HANDEDNESS", 0] = (hands[row.Hand], visit, "Hand")
    return expected


def test_the_load_stores_every_measure_of_the_csvs_harmonised(app, seeded):
    session = seeded
    load_example("OASIS")
    stored = session.execute(
        select(Subject.external_id, Measure.designation, Assessment.days_since_baseline,
               Assessment.value_number, Assessment.value_text, Visit.external_id,
               Assessment.source_column, Assessment.mapping_version)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)).all()
    version = hashlib.sha256(MAPPING.read_bytes()).hexdigest()
    assert {version_ for *_, version_ in stored} == {version}
    found = {(subject, measure, day): (number if text is None else text, visit, column)
             for subject, measure, day, number, text, visit, column, _ in stored}
    expected = oasis_measures_by_pandas()
    assert found.keys() == expected.keys()
    for key, (value, visit, column) in expected.items():
        assert found[key] == (pytest.approx(value) if isinstance(value, float) else value,
                              visit, column), key
    # As the source wrote it: inches and pounds, the CDR as written.
    raw = dict(session.execute(
        select(Measure.designation, Assessment.raw_value)
        .join(Measure, Assessment.measure_id == Measure.id)
        .join(Visit, Assessment.visit_id == Visit.id)
        .where(Visit.external_id == "OAS30001_ClinicalData_d0000")).all())
    assert {measure: raw[measure] for measure in ("MMSE", "CDR_GLOBAL", "HEIGHT", "WEIGHT",
                                                  "HANDEDNESS", "EDUCATION_YEARS")} \
        == {"MMSE": "29", "CDR_GLOBAL": "0", "HEIGHT": "61.0", "WEIGHT": "214.0",
            "HANDEDNESS": "R", "EDUCATION_YEARS": "12"}
    # Visits and subjects keep the label their condition was mapped from, and
    # dataset_condition the version of the mapping.
    assert session.scalar(select(Visit.condition_label)
                          .where(Visit.external_id == "OAS30001_ClinicalData_d1106")) \
        == "cdr 0.5; dx1 uncertain dementia"
    assert set(session.scalars(select(DatasetCondition.mapping_version))) == {version}


def test_a_measure_out_of_its_range_stops_the_load_naming_the_cell(app, seeded, tmp_path):
    data_dir = copy_example(tmp_path, "OASIS")
    replace_in(data_dir / "OASIS3_clinical_data.csv", "OAS30001,65.2,65.2,29,",
               "OAS30001,65.2,65.2,31,")
    result = flask_load(app, "OASIS", data_dir)
    assert result.exit_code == 2, result.output
    assert "OASIS3_clinical_data.csv, row 2, column 'mmse': '31' gives 31, outside MMSE's " \
           "range 0 to 30" in result.output


def test_women_60_to_80_with_alzheimers_and_a_t1(app, seeded):
    """The API issue's example query has answers in the example data."""
    session = seeded
    load_example("OASIS")
    rows = session.execute(
        select(Subject.external_id, Image.path)
        .join(Image, Image.subject_id == Subject.id).join(Visit, Image.visit_id == Visit.id)
        .join(Condition, Visit.condition_id == Condition.id)
        .where(Subject.sex == "female", Subject.age_at_baseline.between(60, 80),
               Condition.designation == AD, Image.type == "T1")).all()
    assert sorted({subject for subject, _ in rows}) == ["OAS30002", "OAS30004", "OAS30008",
                                                        "OAS30013"]
    assert len(rows) == 9


@pytest.mark.parametrize(("break_it", "where"), [
    (lambda d: replace_in(d / "OASIS3_clinical_data.csv", "OAS30002_ClinicalData_d0400",
                          "OAS30002_ClinicalData_400"),
     "OASIS3_clinical_data.csv, row 6, column 'ADRC_ADRCCLINICALDATA ID'"),
    (lambda d: replace_in(d / "OASIS3_clinical_data.csv", "mmse,cdr,", "mmse,CDR,"),
     "OASIS3_clinical_data.csv, row 1, column 'cdr'"),
    (lambda d: replace_in(d / "OASIS3_clinical_data.csv", "OAS30004_ClinicalData_d0730,OAS30004",
                          "OAS30004_ClinicalData_d0730,OAS30005"),
     "OASIS3_clinical_data.csv, row 10, column 'ADRC_ADRCCLINICALDATA ID'"),
    (lambda d: replace_in(d / "OASIS3_clinical_data.csv", ",2,DAT,", ",2.5,DAT,"),
     "OASIS3_clinical_data.csv, row 10, column 'cdr'"),
    (lambda d: replace_in(d / "OASIS3_subjects.csv", "OAS30007,M,B", "OAS30007,X,B"),
     "OASIS3_subjects.csv, row 8, column 'M/F'"),
])
def test_broken_input_exits_2_naming_the_cell_and_changes_nothing(app, seeded, tmp_path,
                                                                  break_it, where):
    session = seeded
    assert flask_load(app, "OASIS").exit_code == 0
    before = data_counts()
    data_dir = copy_example(tmp_path, "OASIS")
    # A change the subjects step would make: it must be rolled back with the rest.
    replace_in(data_dir / "OASIS3_subjects.csv", "OAS30001,F,R", "OAS30001,F,L")
    break_it(data_dir)
    result = flask_load(app, "OASIS", data_dir)
    assert result.exit_code == 2, result.output
    assert where in result.output and "nothing was written" in result.output
    assert data_counts() == before
    session.expire_all()
    assert session.scalar(select(Subject.handedness).where(Subject.external_id == "OAS30001")) \
        == "right"


def test_scripts_run_from_any_directory(database_url, app, seeded, tmp_path):
    assert_scripts_run_from_anywhere("OASIS", database_url, seeded, tmp_path, (14, 24, 23))

    broken = copy_example(tmp_path, "OASIS")
    replace_in(broken / "OASIS3_clinical_data.csv", "OAS30001_ClinicalData_d0339",
               "OAS30001_ClinicalData_dXXXX")
    result = run_script("OASIS", "load_visit.py", database_url, tmp_path, "--data-dir", str(broken))
    assert result.returncode == 2
    assert "OASIS3_clinical_data.csv, row 3, column 'ADRC_ADRCCLINICALDATA ID'" in result.stderr
