"""HCP Young Adult: age bands, sex, one visit per subject, and loading the bundled example."""
import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Dataset, Image, Measure, Scanner, Subject, Visit
from globals import DATA_DIR
from load_db.engine.cells import from_table
from load_db.engine.mapping import read_mapping
from load_db.HCP.read import AGE_BANDS, HEALTHY, MAPPING, SEX, images_of, visit_of
from tests.support.examples import (
    assert_broken_input_changes_nothing,
    assert_scripts_run_from_anywhere,
    count,
    flask_load,
    image_types,
    image_visits,
    load_example,
    subject_conditions,
    written,
)


@pytest.mark.parametrize(("band", "age"), [
    ("22-25", 23.5), ("26-30", 28.0), ("31-35", 33.0), ("36+", 36.5), ("", None)])
def test_age_bands(band, age):
    assert from_table(AGE_BANDS)(band) == age


@pytest.mark.parametrize("band", ["26 - 30", "40-45", "28", "36"])
def test_unknown_age_band_is_an_error(band):
    with pytest.raises(ValueError, match="unknown value"):
        from_table(AGE_BANDS)(band)


@pytest.mark.parametrize(("gender", "sex"), [("F", "female"), ("M", "male"), ("", "unknown")])
def test_gender(gender, sex):
    assert from_table(SEX, empty="unknown")(gender) == sex


def test_every_subject_is_a_healthy_control_and_has_one_3t_visit():
    assert read_mapping(MAPPING).condition_for(HEALTHY) == "Healthy Control"
    assert visit_of("100307") == "100307_3T"


def test_t1_files_are_found_in_the_release_layout():
    images = images_of(DATA_DIR / "HCP")
    assert images["path"].iloc[0] == "100206/unprocessed/3T/T1w_MPR1/100206_3T_T1w_MPR1.nii.gz"
    assert images["subject"].tolist() == ["100206", "100307", "100408", "101107", "101309",
                                          "101915", "102008", "102311", "102816", "103111",
                                          "103414"]



def test_flask_load_hcp_gives_the_exact_rows(app, seeded):
    session = seeded
    result = flask_load(app, "HCP")
    assert result.exit_code == 0, result.output
    dataset_id = session.scalar(select(Dataset.id).where(Dataset.designation == "HCP"))
    assert count(session, Subject, Subject.dataset_id == dataset_id) == 12
    assert count(session, Visit) == 12
    assert image_types(session, dataset_id) == {"T1": 11}
    assert set(subject_conditions(session, dataset_id).values()) == {"Healthy Control"}
    assert session.scalar(select(Visit.condition_id)) is None   # the condition is per subject
    subject = session.scalar(select(Subject).where(Subject.external_id == "103414"))
    assert (subject.sex, subject.age_at_baseline, subject.metadata_json) \
        == ("female", 36.5, {"age_band": "36+"})
    links = image_visits(session, "HCP/")
    assert links == {f"HCP/{s}/unprocessed/3T/T1w_MPR1/{s}_3T_T1w_MPR1.nii.gz": f"{s}_3T"
                     for s in ("100206", "100307", "100408", "101107", "101309", "101915",
                               "102008", "102311", "102816", "103111", "103414")}
    # 103818 took part in the behavioural sessions only: a visit without images.
    visit = session.scalar(select(Visit).where(Visit.external_id == "103818_3T"))
    assert (visit.days_since_baseline, visit.images) == (0, [])
    scanner = session.scalar(select(Scanner).where(Scanner.dataset_id == dataset_id))
    assert (scanner.manufacturer, scanner.model, scanner.field_strength) \
        == ("Siemens", "Connectome Skyra", 3.0)
    assert count(session, Image, Image.scanner_id == scanner.id) == 11


def test_loading_twice_changes_nothing(app, seeded):
    assert written(load_example("HCP")) == {"subject": 12, "visit": 12, "image": 11, "scanner": 1,
                                            "dataset_condition": 1, "assessment": 24}
    assert written(load_example("HCP")) == {}


def test_mmse_and_psqi_are_stored_at_the_3t_visit(app, seeded):
    session = seeded
    load_example("HCP")
    stored = session.execute(
        select(Visit.external_id, Measure.designation, Assessment.value_number,
               Assessment.days_since_baseline)
        .join(Visit, Assessment.visit_id == Visit.id)
        .join(Measure, Assessment.measure_id == Measure.id)).all()
    table = pd.read_csv(DATA_DIR / "HCP" / "unrestricted_behavioral.csv")
    assert sorted(stored) == sorted(
        [(f"{row.Subject}_3T", "MMSE", float(row.MMSE_Score), 0) for row in table.itertuples()]
        + [(f"{row.Subject}_3T", "PSQI", float(row.PSQI_Score), 0) for row in table.itertuples()])


@pytest.mark.parametrize(("old", "new", "where"), [
    ("102311,S1200,Q08,F,26-30", "102311,S1200,Q08,F,26 to 30",
     "unrestricted_behavioral.csv, row 9, column 'Age'"),
    ("Subject,Release,Acquisition,Gender", "Subject,Release,Acquisition,Sex",
     "unrestricted_behavioral.csv, row 1, column 'Gender'"),
    ("101309,", "100206,", "unrestricted_behavioral.csv, row 6, column 'Subject'"),
])
def test_broken_input_exits_2_naming_the_cell_and_changes_nothing(app, seeded, tmp_path,
                                                                  old, new, where):
    assert_broken_input_changes_nothing(app, "HCP", "HCP", "unrestricted_behavioral.csv", old,
                                        new, where, tmp_path)


def test_scripts_run_from_any_directory(database_url, app, seeded, tmp_path):
    assert_scripts_run_from_anywhere("HCP", database_url, seeded, tmp_path, (12, 12, 11))
