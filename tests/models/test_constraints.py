"""The database itself enforces natural keys and enum values, on SQLite and PostgreSQL."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from app.models import (
    ApiKey,
    Condition,
    Dataset,
    DatasetCondition,
    FileType,
    Image,
    PreprocessTask,
    PreprocessTaskFile,
    Scanner,
    Subject,
    Visit,
)
from tests.support.factories import (
    make_condition,
    make_dataset,
    make_file_type,
    make_image,
    make_scanner,
    make_subject,
    make_visit,
)


def _rejects(session, row) -> None:
    session.add(row)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_dataset_designation_is_unique(session):
    make_dataset(session, designation="OASIS")
    _rejects(session, Dataset(designation="OASIS"))


def test_condition_designation_is_unique(session):
    make_condition(session, designation="Healthy Control")
    _rejects(session, Condition(designation="Healthy Control"))


def test_file_type_designation_is_unique(session):
    make_file_type(session, designation="brain_mask_T1w_native_space")
    _rejects(session, FileType(designation="brain_mask_T1w_native_space"))


def test_dataset_condition_label_is_unique_per_dataset(session):
    dataset, condition = make_dataset(session), make_condition(session)
    session.add(DatasetCondition(dataset=dataset, source_label="AD", condition=condition))
    session.flush()
    other = make_dataset(session)
    session.add(DatasetCondition(dataset=other, source_label="AD", condition=condition))
    session.flush()  # the same label in another dataset is fine
    _rejects(session, DatasetCondition(dataset_id=dataset.id, source_label="AD",
                                       condition_id=condition.id))


def test_subject_external_id_is_unique_per_dataset(session):
    subject = make_subject(session, external_id="sub-01")
    make_subject(session, external_id="sub-01")  # another dataset
    _rejects(session, Subject(dataset_id=subject.dataset_id, external_id="sub-01"))


def test_visit_external_id_is_unique_per_subject(session):
    visit = make_visit(session, external_id="ses-01")
    _rejects(session, Visit(subject_id=visit.subject_id, external_id="ses-01"))


def test_scanner_natural_key_is_unique_with_empty_parts(session):
    scanner = make_scanner(session, manufacturer="GE", model="", serial="")
    _rejects(session, Scanner(dataset_id=scanner.dataset_id, manufacturer="GE", model="",
                              serial=""))


def test_image_path_is_unique_per_dataset(session):
    image = make_image(session, path="OASIS/sub-1/anat/sub-1_T1w.nii.gz")
    _rejects(session, Image(dataset_id=image.dataset_id, subject_id=image.subject_id, type="T1",
                            path="OASIS/sub-1/anat/sub-1_T1w.nii.gz"))


def test_preprocess_task_file_is_unique_per_image_task_and_type(session):
    image, file_type = make_image(session), make_file_type(session)
    task = PreprocessTask(module="registration", version="1.0")
    session.add(task)
    session.flush()
    values = {"image_id": image.id, "preprocess_task_id": task.id, "file_type_id": file_type.id}
    session.add(PreprocessTaskFile(path="derived/a.nii.gz", **values))
    session.flush()
    _rejects(session, PreprocessTaskFile(path="derived/b.nii.gz", **values))


def test_api_key_name_is_unique(session):
    session.add(ApiKey(name="alice", token_hash="a" * 64, token_prefix="mbid_a", scopes=["read"]))
    session.flush()
    _rejects(session, ApiKey(name="alice", token_hash="b" * 64, token_prefix="mbid_b",
                             scopes=["read"]))


@pytest.mark.parametrize(("table", "column", "bad_value"), [
    ("image", "type", "T2"),
    ("image", "preprocessed", "done"),
    ("subject", "sex", "F"),
    ("subject", "handedness", "both"),
    ("subject", "race", "caucasian"),
])
def test_database_checks_enum_values(session, table, column, bad_value):
    image = make_image(session)
    session.commit()
    row_id = image.id if table == "image" else image.subject_id
    with pytest.raises(IntegrityError):
        session.execute(text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                        {"value": bad_value, "id": row_id})
    session.rollback()


@pytest.mark.parametrize(("column", "good_values"), [
    ("sex", ["female", "male", "other", "unknown"]),
    ("handedness", ["left", "right", "ambidextrous", "unknown"]),
    ("race", ["white_non_latino", "white_latino", "black", "asian_or_pacific",
              "american_indian", "multiple", "undefined"]),
])
def test_database_accepts_every_allowed_subject_value(session, column, good_values):
    subject = make_subject(session)
    for value in good_values:
        session.execute(text(f"UPDATE subject SET {column} = :value WHERE id = :id"),
                        {"value": value, "id": subject.id})
    assert session.execute(text(f"SELECT {column} FROM subject WHERE id = :id"),
                           {"id": subject.id}).scalar_one() == good_values[-1]


def test_orm_refuses_an_unknown_enum_string_before_sending_it(session):
    subject = make_subject(session)
    session.add(Image(dataset_id=subject.dataset_id, subject_id=subject.id, type="T2w",
                      path="x.nii.gz"))
    with pytest.raises(StatementError):
        session.flush()
    session.rollback()


def test_timestamps_are_taken_when_the_row_is_written(session):
    before = datetime.now(UTC) - timedelta(seconds=1)
    dataset = make_dataset(session)
    session.commit()
    session.refresh(dataset)
    created = dataset.created_at
    if created.tzinfo is None:  # SQLite keeps no zone; values are written in UTC
        created = created.replace(tzinfo=UTC)
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert dataset.deleted_at is None
