"""What a dataset's mapping file changes in the stored rows, and writing those changes.

`harmonise_dataset` compares, row by row, what is stored with what the mapping gives from the
stored raw values (condition labels, assessment raw values), lists the rows that differ and,
unless it is a dry run, writes them with the mapping's version in bulk (the engine's upsert),
refreshes the image search columns and records an audit entry. A stored label the mapping does
not cover is what it is in a load (load_db/engine/labels.py): an error, or, when the mapping
says `unmapped: report`, a row without a condition, listed with its count.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.access import audit
from app.models import (
    Assessment,
    AuditAction,
    Condition,
    Dataset,
    DatasetCondition,
    Measure,
    Subject,
    Visit,
)
from app.models.image_measure import refresh_image_measures
from app.models.search import refresh_image_search
from load_db.engine.assessments import KEY, master_measures
from load_db.engine.errors import LoadError
from load_db.engine.labels import label_condition
from load_db.engine.linking import dataset_subjects
from load_db.engine.mapping import MappingFile, harmonised
from load_db.engine.upsert import upsert


@dataclass(frozen=True)
class Change:
    """One stored row whose value the mapping changes.

    kind is subject, visit (their condition) or assessment (a measure's value); `name` is
    "condition" or the measure's designation; old and new are designations or values.
    """

    kind: str
    subject: str
    visit: str | None
    name: str
    old: Any
    new: Any


@dataclass
class HarmoniseResult:
    """What `harmonise_dataset` found (and wrote, unless a dry run)."""

    dataset: str
    mapping_version: str
    previous_versions: list[str]
    changes: list[Change] = field(default_factory=list)
    applied: bool = False
    # Assessments whose (measure, column) the mapping no longer names: left as they are.
    unmapped: int = 0
    # Stored labels the mapping does not cover (`unmapped: report`): {label: subjects and
    # visits holding it}, each left without a condition.
    unmapped_labels: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Changed rows by kind."""
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "mapping_version": self.mapping_version,
                "previous_versions": self.previous_versions, "applied": self.applied,
                "counts": self.counts(), "unmapped_assessments": self.unmapped,
                "unmapped_labels": dict(self.unmapped_labels),
                "changes": [asdict(change) for change in self.changes]}


def harmonise_dataset(session: Session, designation: str, mapping: MappingFile, *,
                      dry_run: bool = False, actor: str | None = None) -> HarmoniseResult:
    """Re-apply `mapping` to the dataset's stored labels and raw values.

    With `dry_run`, only list the changes; otherwise write them (and the mapping's version on
    every row it maps), refresh the image search columns and record an audit entry by `actor`
    (the command's user by default). Never commits. LoadError for an unknown dataset or a
    stored value the mapping cannot map.
    """
    dataset = session.scalar(select(Dataset).where(Dataset.designation == designation))
    if dataset is None:
        raise LoadError(f"unknown dataset {designation!r}")
    labels = _label_rows(session, dataset.id)
    master = dict(session.execute(select(Condition.designation, Condition.id)).all())
    names = {condition_id: name for name, condition_id in master.items()}
    conditions = _condition_rows(session, dataset.id)
    every_label = sorted(set(labels["source_label"]).union(
        *(frame["condition_label"] for frame in conditions.values())))
    new_ids, outside = _condition_ids(mapping, every_label, master)
    assessments = _assessment_rows(session, dataset.id)
    new_values, unmapped = _reharmonised(assessments, mapping, master_measures(session))
    previous = sorted(set(labels["mapping_version"].dropna())
                      | set(assessments["mapping_version"].dropna()))
    result = HarmoniseResult(designation, mapping.version, previous, unmapped=unmapped)
    result.unmapped_labels = {label: sum(int((frame["condition_label"] == label).sum())
                                         for frame in conditions.values())
                              for label in outside}

    for frame in conditions.values():
        frame["new_id"] = frame["condition_label"].map(new_ids).astype("Int64")
    for kind, frame in conditions.items():
        new, old = frame["new_id"], frame["condition_id"]
        same = (new == old).fillna(False) | (new.isna() & old.isna())
        changed = frame[~same.astype(bool)]
        result.changes += [Change(kind, row.subject, getattr(row, "visit", None), "condition",
                                  names.get(row.condition_id), names.get(row.new_id))
                           for row in changed.itertuples()]
    moved = assessments.assign(new_number=new_values["value_number"],
                               new_text=new_values["value_text"])
    differs = _differs(moved["value_number"], moved["new_number"]) \
        | _differs(moved["value_text"], moved["new_text"])
    differs &= new_values["mapped"]
    result.changes += [Change("assessment", row.subject, row.visit, row.measure,
                              _value(row.value_number, row.value_text),
                              _value(row.new_number, row.new_text))
                       for row in moved[differs].itertuples()]
    if dry_run:
        return result
    _write(session, dataset, mapping, new_ids, conditions, moved[new_values["mapped"]])
    audit.record(AuditAction.HARMONISE, actor or audit.cli_actor(), datasets=[dataset],
                 row_count=len(result.changes),
                 details={"dataset": designation, "mapping_version": mapping.version,
                          "previous_versions": previous, "changed": result.counts()},
                 session=session)
    result.applied = True
    return result


def _condition_ids(mapping: MappingFile, labels: list[str], master: dict[str, int]
                   ) -> tuple[dict[str, int | None], list[str]]:
    """{stored label: its new condition id, None for none}, and the labels the mapping does
    not cover (reported: the mapping says `unmapped: report`); LoadError naming the mapping
    for a label it must map and cannot."""
    ids: dict[str, int | None] = {}
    outside = []
    for label in labels:
        try:
            designation, unmapped = label_condition(label, mapping)
        except KeyError as exc:
            raise LoadError(f"stored label {label!r}: {exc.args[0]}",
                            file=mapping.path, column="conditions") from None
        if unmapped:
            outside.append(label)
        if designation is not None and designation not in master:
            raise LoadError(f"stored label {label!r} maps to {designation!r}, which is not in "
                            "the master list of conditions", file=mapping.path,
                            column="conditions")
        ids[label] = master.get(designation) if designation is not None else None
    return ids, outside


def _label_rows(session: Session, dataset_id: int) -> pd.DataFrame:
    rows = session.execute(select(DatasetCondition.source_label, DatasetCondition.mapping_version)
                           .where(DatasetCondition.dataset_id == dataset_id))
    return pd.DataFrame(rows.all(), columns=["source_label", "mapping_version"], dtype=object)


def _condition_rows(session: Session, dataset_id: int) -> dict[str, pd.DataFrame]:
    """The labelled subjects and visits of the dataset, with their stored condition."""
    subjects = session.execute(
        select(Subject.external_id, Subject.id, Subject.condition_id, Subject.condition_label)
        .where(Subject.dataset_id == dataset_id, Subject.condition_label.is_not(None))
        .order_by(Subject.external_id))
    visits = session.execute(
        select(Subject.external_id, Visit.subject_id, Visit.external_id, Visit.condition_id,
               Visit.condition_label)
        .join(Subject, Visit.subject_id == Subject.id)
        .where(Subject.dataset_id == dataset_id, Visit.condition_label.is_not(None))
        .order_by(Subject.external_id, Visit.days_since_baseline, Visit.external_id))
    return {
        "subject": pd.DataFrame(subjects.all(), columns=["subject", "subject_id", "condition_id",
                                                         "condition_label"])
        .astype({"condition_id": "Int64"}),
        "visit": pd.DataFrame(visits.all(), columns=["subject", "subject_id", "visit",
                                                     "condition_id", "condition_label"])
        .astype({"condition_id": "Int64"}),
    }


def _assessment_rows(session: Session, dataset_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(Subject.external_id, Visit.external_id, Measure.designation,
               Assessment.subject_id, Assessment.measure_id, Assessment.days_since_baseline,
               Assessment.raw_value, Assessment.source_column, Assessment.value_number,
               Assessment.value_text, Assessment.mapping_version)
        .join(Subject, Assessment.subject_id == Subject.id)
        .join(Measure, Assessment.measure_id == Measure.id)
        .outerjoin(Visit, Assessment.visit_id == Visit.id)
        .where(Assessment.subject_id.in_(dataset_subjects(dataset_id)))
        .order_by(Subject.external_id, Measure.designation, Assessment.days_since_baseline))
    return pd.DataFrame(rows.all(), columns=[
        "subject", "visit", "measure", "subject_id", "measure_id", "days_since_baseline",
        "raw_value", "source_column", "value_number", "value_text", "mapping_version"],
        dtype=object)


def _reharmonised(assessments: pd.DataFrame, mapping: MappingFile,
                  measures: dict[str, tuple[int, Any]]) -> tuple[pd.DataFrame, int]:
    """The new value_number and value_text of each stored assessment, and whether the mapping
    still names its column (`mapped`); also how many it does not."""
    missing = frozenset(mapping.content.missing)
    numbers, texts, mapped = [], [], []
    for row in assessments.itertuples():
        try:
            source = mapping.source(row.measure, row.source_column)
        except KeyError:
            numbers.append(None)
            texts.append(None)
            mapped.append(False)
            continue
        try:
            value = harmonised(row.raw_value, source, measures[row.measure][1], missing)
        except ValueError as exc:
            raise LoadError(f"subject {row.subject!r}, day {row.days_since_baseline}: {exc}",
                            file=mapping.path, column=row.source_column) from None
        number, text = value if value is not None else (None, None)
        numbers.append(number)
        texts.append(text)
        mapped.append(True)
    values = pd.DataFrame({"value_number": pd.Series(numbers, dtype=object),
                           "value_text": pd.Series(texts, dtype=object),
                           "mapped": pd.Series(mapped, dtype=bool)}, index=assessments.index)
    return values, int((~values["mapped"]).sum())


def _differs(old: pd.Series, new: pd.Series) -> pd.Series:
    def missing(value: Any) -> bool:
        return value is None or (isinstance(value, float) and value != value)

    return pd.Series([not (missing(a) and missing(b)) and (missing(a) or missing(b) or a != b)
                      for a, b in zip(old, new, strict=True)], index=old.index, dtype=bool)


def _value(number: Any, text: Any) -> Any:
    if text is not None and text == text:
        return text
    return None if number is None or number != number else float(number)


def _write(session: Session, dataset: Dataset, mapping: MappingFile,
           new_ids: dict[str, int | None], conditions: dict[str, pd.DataFrame],
           assessments: pd.DataFrame) -> None:
    """Write the re-mapped conditions and values, each row with the mapping's version; a label
    left without a condition loses its dataset_condition."""
    upsert(session, DatasetCondition,
           [{"dataset_id": dataset.id, "source_label": label, "condition_id": condition_id,
             "mapping_version": mapping.version} for label, condition_id in new_ids.items()
            if condition_id is not None],
           ["dataset_id", "source_label"], where=DatasetCondition.dataset_id == dataset.id)
    without = [label for label, condition_id in new_ids.items() if condition_id is None]
    if without:
        session.execute(delete(DatasetCondition).where(
            DatasetCondition.dataset_id == dataset.id,
            DatasetCondition.source_label.in_(without)))
    subjects = conditions["subject"]
    upsert(session, Subject, pd.DataFrame({"dataset_id": dataset.id,
                                           "external_id": subjects["subject"],
                                           "condition_id": subjects["new_id"]}),
           ["dataset_id", "external_id"], where=Subject.dataset_id == dataset.id)
    visits = conditions["visit"]
    upsert(session, Visit, pd.DataFrame({"subject_id": visits["subject_id"],
                                         "external_id": visits["visit"],
                                         "condition_id": visits["new_id"]}),
           ["subject_id", "external_id"], where=Visit.subject_id.in_(dataset_subjects(dataset.id)))
    upsert(session, Assessment, pd.DataFrame({
        **{name: assessments[name] for name in KEY},
        "value_number": pd.array(assessments["new_number"].tolist(), dtype="Float64"),
        "value_text": assessments["new_text"], "mapping_version": mapping.version,
        # Unchanged, but an INSERT ... ON CONFLICT must give every NOT NULL column.
        "source_column": assessments["source_column"],
    }), KEY, where=Assessment.subject_id.in_(dataset_subjects(dataset.id)))
    refresh_image_search(session, dataset.id)
    refresh_image_measures(session, dataset.id)
