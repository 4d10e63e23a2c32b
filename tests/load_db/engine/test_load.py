"""The loading engine (load_frames, run_load): checks, condition mapping, idempotency and
atomicity, on both databases."""
import pandas as pd
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Condition,
    Dataset,
    DatasetCondition,
    Image,
    LoadRun,
    LoadStatus,
    Scanner,
    Subject,
    Visit,
)
from app.models.search import refresh_image_search
from load_db.engine import LoadError, load_frames, run_load
from tests.support.apps import table_counts
from tests.support.factories import make_condition, make_dataset

DX = {"CN": "Healthy Control", "AD": "Alzheimer's Disease"}


def seed(session):
    make_dataset(session, designation="DEMO")
    for designation in DX.values():
        make_condition(session, designation=designation)


def demo_frames():
    subjects = pd.DataFrame({
        "external_id": ["s1", "s2"], "sex": ["female", "male"], "handedness": ["right", None],
        "age_at_baseline": ["71.5", ""], "metadata": [{"site": "A"}, None],
        "source_file": "subjects.csv", "source_row": [2, 3]})
    visits = pd.DataFrame({
        "subject": ["s1", "s1", "s2"], "external_id": ["d0000", "d0400", "d0000"],
        "days_since_baseline": [0, 400, 0], "condition": ["CN", "AD", "CN"],
        "symptoms": [{"mmse": 29}, {"mmse": 21}, {"mmse": 30}], "bmi": [24.1, None, 31.0],
        "source_file": "visits.csv", "source_row": [2, 3, 4]})
    images = pd.DataFrame({
        "subject": ["s1", "s1", "s2"], "path": ["DEMO/s1/t1_0010.nii.gz", "DEMO/s1/t1_0500.nii.gz",
                                                  "DEMO/s2/dwi_0001.nii.gz"],
        "days_since_baseline": [10, 500, 1], "type": ["T1", "T1", "DWI"],
        "file_size": [100, 200, 300], "manufacturer": ["Siemens", "Siemens", "GE"],
        "model": ["Prisma", "Prisma", None], "field_strength": [3.0, 3.0, 1.5],
        "metadata": [{"EchoTime": 0.003}, {"EchoTime": 0.003}, None],
        "source_file": "images.csv", "source_row": [2, 3, 4]})
    return subjects, visits, images


def load_demo(session, **changes):
    subjects, visits, images = demo_frames()
    frames = {"subjects": subjects, "visits": visits, "images": images, **changes}
    return load_frames(session, "DEMO", map_condition=DX.__getitem__, **frames)


def test_load_writes_every_table_and_links_images(plain_session):
    seed(plain_session)
    report = load_demo(plain_session)
    assert {name: vars(c) for name, c in report.tables.items()} == {
        "dataset_condition": {"inserted": 2, "updated": 0, "unchanged": 0},
        "subject": {"inserted": 2, "updated": 0, "unchanged": 0},
        "visit": {"inserted": 3, "updated": 0, "unchanged": 0},
        "scanner": {"inserted": 2, "updated": 0, "unchanged": 0},
        "image": {"inserted": 3, "updated": 0, "unchanged": 0},
    }
    s1 = plain_session.scalar(select(Subject).where(Subject.external_id == "s1"))
    assert (s1.sex, s1.handedness, s1.age_at_baseline, s1.metadata_json) == (
        "female", "right", 71.5, {"site": "A"})
    s2 = plain_session.scalar(select(Subject).where(Subject.external_id == "s2"))
    assert (s2.handedness, s2.age_at_baseline, s2.race) == ("unknown", None, "undefined")

    linked_to = dict(plain_session.execute(
        select(Image.path, Visit.external_id).join(Visit, Image.visit_id == Visit.id)).all())
    assert linked_to == {"DEMO/s1/t1_0010.nii.gz": "d0000", "DEMO/s1/t1_0500.nii.gz": "d0400",
                         "DEMO/s2/dwi_0001.nii.gz": "d0000"}
    visit_conditions = {(v.external_id, v.subject.external_id): v.condition.designation
                        for v in plain_session.scalars(select(Visit))}
    assert visit_conditions == {("d0000", "s1"): "Healthy Control",
                                ("d0400", "s1"): "Alzheimer's Disease",
                                ("d0000", "s2"): "Healthy Control"}
    assert dict(plain_session.execute(select(DatasetCondition.source_label,
                                       DatasetCondition.condition_id)).all()).keys() == {"CN", "AD"}
    scanners = {(s.manufacturer, s.model, s.serial, s.field_strength)
                for s in plain_session.scalars(select(Scanner))}
    assert scanners == {("Siemens", "Prisma", "", 3.0), ("GE", "", "", 1.5)}


def test_loading_twice_changes_nothing_and_a_change_is_one_update(plain_session):
    seed(plain_session)
    load_demo(plain_session)
    second = load_demo(plain_session)
    assert all(c.inserted == 0 and c.updated == 0 for c in second.tables.values())
    assert second.counts("image").unchanged == 3

    subjects, _, _ = demo_frames()
    subjects.loc[1, "sex"] = "female"
    third = load_frames(plain_session, "DEMO", subjects=subjects)
    assert vars(third.counts("subject")) == {"inserted": 0, "updated": 1, "unchanged": 1}


def test_columns_left_out_are_left_alone(plain_session):
    seed(plain_session)
    load_demo(plain_session)
    load_frames(plain_session, "DEMO",
                subjects=pd.DataFrame({"external_id": ["s1"], "race": ["black"]}))
    s1 = plain_session.scalar(select(Subject).where(Subject.external_id == "s1"))
    assert (s1.race, s1.sex, s1.age_at_baseline) == ("black", "female", 71.5)


@pytest.mark.parametrize(("frame", "column", "value", "message"), [
    ("subjects", "sex", "F", "subjects.csv, row 3, column 'sex': 'F' is not one of female"),
    ("subjects", "age_at_baseline", "seventy", "subjects.csv, row 3, column 'age_at_baseline': "
                                               "'seventy' is not a number"),
    ("visits", "days_since_baseline", "1.5", "visits.csv, row 3, column 'days_since_baseline': "
                                             "'1.5' is not a whole number"),
    ("visits", "condition", "PD", "visits.csv, row 3, column 'condition': unknown diagnosis "
                                  "label 'PD'"),
    ("visits", "subject", "s9", "visits.csv, row 3, column 'subject': unknown subject 's9'"),
    ("images", "type", "T2", "images.csv, row 3, column 'type': 'T2' is not one of"),
    ("images", "path", "DEMO/s1/t1_0010.nii.gz",
     "images.csv, row 3, column 'path': duplicate image"),
    ("images", "subject", "", "images.csv, row 3, column 'subject': empty value"),
])
def test_bad_value_names_file_row_and_column(plain_session, frame, column, value, message):
    seed(plain_session)
    frames = dict(zip(("subjects", "visits", "images"), demo_frames(), strict=True))
    frames[frame] = frames[frame].astype({column: object})
    frames[frame].loc[1, column] = value
    with pytest.raises(LoadError) as error:
        load_frames(plain_session, "DEMO", map_condition=DX.__getitem__, **frames)
    assert str(error.value).startswith(message)


def test_unexpected_or_missing_columns_are_named(plain_session):
    seed(plain_session)
    with pytest.raises(LoadError, match="column 'gender': unexpected column in the subjects"):
        load_frames(plain_session, "DEMO",
                    subjects=pd.DataFrame({"external_id": ["a"], "gender": ["F"]}))
    with pytest.raises(LoadError, match="column 'path': the images table lacks a required column"):
        load_frames(plain_session, "DEMO", images=pd.DataFrame({"subject": ["a"]}))


def test_unknown_dataset_needs_the_seed_list_or_register(plain_session):
    subjects = pd.DataFrame({"external_id": ["x"]})
    with pytest.raises(LoadError, match="unknown dataset 'NEW'.*datasets_list.xls"):
        load_frames(plain_session, "NEW", subjects=subjects)
    report = load_frames(plain_session, "NEW", subjects=subjects, register=True)
    assert report.counts("subject").inserted == 1


def test_failure_halfway_leaves_every_table_as_it_was(plain_session, tmp_path):
    seed(plain_session)
    plain_session.commit()
    load_demo(plain_session)
    plain_session.commit()
    before = table_counts(plain_session)
    subjects, visits, images = demo_frames()
    subjects.loc[2] = {"external_id": "s3", "source_file": "subjects.csv", "source_row": 4}
    visits.loc[3] = {"subject": "s3", "external_id": "d0000", "days_since_baseline": 0,
                     "source_file": "visits.csv", "source_row": 5}
    images.loc[1, "type"] = "T2"  # found after subjects and visits were written

    def load(session_, _directory):
        return load_frames(session_, "DEMO", subjects=subjects, visits=visits, images=images,
                           map_condition=DX.__getitem__)

    with pytest.raises(LoadError, match="images.csv, row 3, column 'type'"):
        run_load(plain_session, "demo", load, tmp_path, dataset="DEMO")
    assert table_counts(plain_session) == {**before, "load_run": before["load_run"] + 1}
    assert plain_session.scalar(select(Subject).where(Subject.external_id == "s3")) is None
    failed = plain_session.scalars(select(LoadRun)).one()
    assert (failed.loader, failed.status, failed.dry_run, failed.report) == (
        "demo", LoadStatus.FAILED, False, None)
    assert failed.dataset_id == plain_session.scalar(
        select(Dataset.id).where(Dataset.designation == "DEMO"))
    assert failed.error.startswith("images.csv, row 3, column 'type': 'T2' is not one of")
    assert failed.started_at <= failed.finished_at


def test_dry_run_reports_and_rolls_back(plain_session, tmp_path):
    seed(plain_session)
    plain_session.commit()
    before = table_counts(plain_session)
    report = run_load(plain_session, "demo", lambda s, _d: load_demo(s), tmp_path,
                      dataset="DEMO", dry_run=True)
    assert report.dry_run and report.counts("image").inserted == 3
    assert table_counts(plain_session) == before


def test_a_load_on_postgresql_refreshes_the_statistics_of_the_tables_it_wrote(postgres, tmp_path):
    engine = create_engine(postgres.create_database())
    db.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        session.commit()

        def estimated_rows():
            return dict(session.execute(text(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                "('subject', 'visit', 'image', 'scanner')")).all())

        assert set(estimated_rows().values()) == {-1}   # never analyzed
        run_load(session, "demo", lambda s, _d: load_demo(s), tmp_path, dataset="DEMO")
        assert estimated_rows() == {"subject": 2, "visit": 3, "image": 3, "scanner": 2}
    engine.dispose()


def _search_columns(session):
    session.expire_all()
    return {path: (condition, sex, None if age is None else round(age, 4), strength, maker)
            for path, condition, sex, age, strength, maker in session.execute(
                select(Image.path, Condition.designation, Image.search_sex,
                       Image.search_age_at_scan, Image.search_field_strength,
                       Image.search_manufacturer)
                .outerjoin(Condition, Condition.id == Image.search_condition_id))}


def test_a_load_keeps_the_image_search_columns_right_and_a_reload_rewrites_only_changes(
        plain_session):
    seed(plain_session)
    load_demo(plain_session)
    assert _search_columns(plain_session) == {
        "DEMO/s1/t1_0010.nii.gz": ("Healthy Control", "female", 71.5274, 3.0, "siemens"),
        "DEMO/s1/t1_0500.nii.gz": ("Alzheimer's Disease", "female", 72.8689, 3.0, "siemens"),
        "DEMO/s2/dwi_0001.nii.gz": ("Healthy Control", "male", None, 1.5, "ge")}
    assert refresh_image_search(plain_session) == 0

    subjects, visits, _ = demo_frames()
    subjects.loc[0, "sex"] = "male"
    visits.loc[1, "condition"] = "CN"
    load_frames(plain_session, "DEMO", subjects=subjects, visits=visits,
                map_condition=DX.__getitem__)
    assert _search_columns(plain_session) == {
        "DEMO/s1/t1_0010.nii.gz": ("Healthy Control", "male", 71.5274, 3.0, "siemens"),
        "DEMO/s1/t1_0500.nii.gz": ("Healthy Control", "male", 72.8689, 3.0, "siemens"),
        "DEMO/s2/dwi_0001.nii.gz": ("Healthy Control", "male", None, 1.5, "ge")}
