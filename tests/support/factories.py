"""make_<model>(session, **overrides): small rows for tests; they flush, never commit."""
from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from app.access.auth import create_api_key
from app.models import (
    ApiKey,
    Assessment,
    Condition,
    Dataset,
    FileType,
    Image,
    ImageType,
    LoadRun,
    LoadStatus,
    Measure,
    MeasureKind,
    PreprocessTask,
    PreprocessTaskFile,
    Scanner,
    Subject,
    Visit,
)

_sequence = itertools.count(1)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def make_dataset(session: Session, **overrides: Any) -> Dataset:
    n = next(_sequence)
    designation = overrides.get("designation", f"DS{n}")
    # Its files lie under its own name, as a dataset without a prefix of its own keeps them.
    values = {"designation": designation, "description": f"dataset {n}",
              "storage_prefix": designation}
    return _add(session, Dataset(**{**values, **overrides}))


def make_condition(session: Session, **overrides: Any) -> Condition:
    return _add(session, Condition(**{"designation": f"Condition {next(_sequence)}", **overrides}))


def make_file_type(session: Session, **overrides: Any) -> FileType:
    return _add(session, FileType(**{"designation": f"file_type_{next(_sequence)}", **overrides}))


def make_measure(session: Session, **overrides: Any) -> Measure:
    """A measure of the master list (a number unless `kind` says otherwise)."""
    values = {"designation": f"MEASURE_{next(_sequence)}", "kind": MeasureKind.NUMBER}
    return _add(session, Measure(**{**values, **overrides}))


def make_assessment(session: Session, **overrides: Any) -> Assessment:
    """A value of a measure: at `visit` (its subject and day) unless `subject` and
    `days_since_baseline` are given; `value` sets value_number, or value_text for a str."""
    visit = overrides.get("visit")
    if "subject" not in overrides and "subject_id" not in overrides:
        overrides["subject"] = visit.subject if visit is not None else make_subject(session)
    if "measure" not in overrides and "measure_id" not in overrides:
        overrides["measure"] = make_measure(session)
    value = overrides.pop("value", None)
    values = {"days_since_baseline": visit.days_since_baseline if visit is not None else 0,
              "value_number": None if isinstance(value, str) else value,
              "value_text": value if isinstance(value, str) else None,
              "raw_value": None if value is None else str(value),
              "source_column": "score", "mapping_version": "0" * 64}
    return _add(session, Assessment(**{**values, **overrides}))


def make_subject(session: Session, **overrides: Any) -> Subject:
    if "dataset" not in overrides and "dataset_id" not in overrides:
        overrides["dataset"] = make_dataset(session)
    return _add(session, Subject(**{"external_id": f"sub-{next(_sequence)}", **overrides}))


def make_visit(session: Session, **overrides: Any) -> Visit:
    if "subject" not in overrides and "subject_id" not in overrides:
        overrides["subject"] = make_subject(session)
    values = {"external_id": f"ses-{next(_sequence)}", "days_since_baseline": 0}
    return _add(session, Visit(**{**values, **overrides}))


def make_scanner(session: Session, **overrides: Any) -> Scanner:
    if "dataset" not in overrides and "dataset_id" not in overrides:
        overrides["dataset"] = make_dataset(session)
    values = {"manufacturer": "Siemens", "model": f"Prisma {next(_sequence)}", "serial": "",
              "field_strength": 3.0}
    return _add(session, Scanner(**{**values, **overrides}))


def make_image(session: Session, **overrides: Any) -> Image:
    if "subject" not in overrides and "subject_id" not in overrides:
        overrides["subject"] = make_subject(session)
    subject = overrides.get("subject")
    if "dataset" not in overrides and "dataset_id" not in overrides and subject is not None:
        overrides["dataset"] = subject.dataset
    n = next(_sequence)
    # Under its dataset's prefix, where the download route looks for it.
    dataset = overrides.get("dataset")
    folder = (dataset.storage_prefix or dataset.designation) if dataset is not None else "images"
    values = {"type": ImageType.T1, "path": f"{folder}/sub-{n}_T1w.nii.gz", "file_size": 1024}
    return _add(session, Image(**{**values, **overrides}))


def make_derived_file(session: Session, **overrides: Any) -> PreprocessTaskFile:
    """A derived file of an image (made with its task and file type unless given)."""
    if "image" not in overrides and "image_id" not in overrides:
        overrides["image"] = make_image(session)
    if "preprocess_task" not in overrides:
        overrides["preprocess_task"] = _add(session, PreprocessTask(module="mask", version="1"))
    if "file_type" not in overrides and "file_type_id" not in overrides:
        overrides["file_type"] = make_file_type(session)
    values = {"path": f"derived/mask/file-{next(_sequence)}.nii.gz"}
    return _add(session, PreprocessTaskFile(**{**values, **overrides}))


def make_load_run(session: Session, **overrides: Any) -> LoadRun:
    values = {"loader": f"loader {next(_sequence)}", "status": LoadStatus.SUCCEEDED,
              "dry_run": False}
    return _add(session, LoadRun(**{**values, **overrides}))


def make_api_key(session: Session, **overrides: Any) -> tuple[ApiKey, str]:
    """Return a new key and its token; overrides: name, scopes, datasets, expires_at."""
    name = overrides.pop("name", f"key-{next(_sequence)}")
    key, token = create_api_key(name, **overrides)
    session.flush()
    return key, token


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header that sends `token`."""
    return {"Authorization": f"Bearer {token}"}
