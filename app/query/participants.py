"""The harmonised participant table of a dataset or a saved cohort, as BIDS participants.tsv
and its participants.json data dictionary.

Columns, in order: participant_id, dataset (cohorts only: they span datasets), sex, age (at
baseline, in years), condition, then one column per measure any of the participants has, by
designation. A per-subject measure (a trait: education, handedness, APOE e4) gives the
participant's latest value; any other measure gives the value of the participant's first
assessment of it (smallest day since baseline), the baseline value a participants table
describes. Missing values are "n/a", as BIDS asks.

The dictionary annotates every column with BIDS' keys (Description; Units where the column has
a unit; Levels, value -> description, for sex, condition, dataset and category measures;
TermURL where the measure has a controlled-vocabulary term) and, for participant_id, sex, age
and condition, with the "Annotations" object of NeuroBagel's data dictionaries (IsAbout,
VariableType, Levels with a TermURL per level where one is known, MissingValues), so that its
annotation tool and CLI read the file as it is.

The rows are the subjects the request's key may see (the visibility hook applies to every
statement here), not withdrawn, sorted by (dataset, external id) compared in Python, so the
files are the same on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from app.extensions import db
from app.models import Assessment, CohortImage, Condition, Dataset, Measure, Subject, Visit
from app.query.filters import not_deleted

MISSING = "n/a"
# BIDS allows these values of sex (and "n/a"); "unknown" is written as missing.
SEX_LEVELS = {"female": "Female", "male": "Male", "other": "Other"}
# NeuroBagel's levels of sex: SNOMED CT's female (248152002) and male (248153007) findings.
SEX_TERMS = {"female": "http://purl.bioontology.org/ontology/SNOMEDCT/248152002",
             "male": "http://purl.bioontology.org/ontology/SNOMEDCT/248153007"}
# Anything but ASCII letters and digits is dropped from a label (BIDS: label = alphanumeric).
NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")
# The column of a subject's own id, where the participant_id is not made from it alone.
SOURCE_ID = "source_participant_id"
LABEL_DESCRIPTION = ("The participant: sub-<label>, the label being the subject's external id "
                     "in its dataset with anything but letters and digits removed (\"dupN\" "
                     "appended where two would be equal).")


@dataclass
class ParticipantTable:
    """The table's columns, its rows of TSV cells, and the participants.json dictionary."""

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    dictionary: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: set[str] = field(default_factory=set)
    # The subject id of each row, in the rows' order.
    subject_ids: list[int] = field(default_factory=list)

    def tsv(self) -> str:
        """participants.tsv: a header line, then one line per participant, tab-separated."""
        return "".join("\t".join(line) + "\n" for line in [self.columns, *self.rows])

    def json(self) -> str:
        """participants.json: the dictionary, its columns in the table's order."""
        return json.dumps(self.dictionary, indent=2, ensure_ascii=False) + "\n"


def dataset_subjects(dataset_id: int) -> Select:
    """The ids of a dataset's subjects (the table of a dataset)."""
    return select(Subject.id).where(Subject.dataset_id == dataset_id)


def cohort_subjects(cohort_id: int) -> Select:
    """The ids of the subjects of a cohort's frozen images (the table of a cohort)."""
    return select(CohortImage.subject_id).where(CohortImage.cohort_id == cohort_id).distinct()


def participant_labels(keys: Sequence[tuple[str, str]]) -> list[str]:
    """Return a unique BIDS participant_id (`sub-<label>`) for each (dataset, external_id).

    The label is the external id without a leading "sub-" and without any character that is
    not an ASCII letter or digit ("OAS3_0001" -> "OAS30001"; an id with none gives "0").
    Labels that come out equal (the same id in two datasets of a cohort, or ids that differ
    only by punctuation) are told apart in the order of `keys`: the first keeps the label,
    each later one gets "dup" and the smallest number from 2 that makes it unused by any
    other subject ("001", "001dup2", "001dup3"). Pure.
    """
    cleaned = [NOT_ALPHANUMERIC.sub("", external.removeprefix("sub-")) or "0"
               for _, external in keys]
    taken = set(cleaned)
    seen: set[str] = set()
    labels = []
    for label in cleaned:
        if label in seen:
            number = 2
            while f"{label}dup{number}" in taken:
                number += 1
            label = f"{label}dup{number}"
            taken.add(label)
        seen.add(label)
        labels.append(f"sub-{label}")
    return labels


def cell(value: Any) -> str:
    """A TSV cell: "n/a" for none, numbers without a needless ".0" (10 significant digits),
    text with tabs and line breaks made spaces."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"{float(value):.10g}"
    return re.sub(r"[\t\r\n]", " ", str(value))


def participant_table(
    subject_ids: Select, *, with_dataset: bool,
    labels: Callable[[Sequence[tuple[str, str]]], list[str]] = participant_labels,
    label_description: str = LABEL_DESCRIPTION, with_source_id: bool = False,
) -> ParticipantTable:
    """Build the participant table of the subjects `subject_ids` selects (see the module).

    `labels` makes the participant_ids of the (dataset, external id) keys (the BIDS export
    names subjects by study and id), as `label_description` says; `with_source_id` adds
    the column source_participant_id, the subject's id in its dataset, after dataset.
    """
    subjects = sorted(db.session.execute(
        select(Subject.id, Dataset.designation, Dataset.description, Subject.external_id,
               Subject.sex, Subject.age_at_baseline, Subject.condition_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .where(Subject.id.in_(subject_ids), not_deleted(Subject, Dataset))
    ).all(), key=lambda row: (row.designation, row.external_id))
    conditions = _conditions_of(subjects, subject_ids)
    condition_rows = _rows_by_id(Condition, {c for c in conditions.values() if c is not None})
    measures, values = _measure_values(subject_ids)

    columns = ["participant_id", *(["dataset"] if with_dataset else []),
               *([SOURCE_ID] if with_source_id else []), "sex", "age",
               "condition", *(measure.designation for measure in measures)]
    table = ParticipantTable(columns, datasets={row.designation for row in subjects},
                             subject_ids=[row.id for row in subjects])
    made = labels([(row.designation, row.external_id) for row in subjects])
    for label, row in zip(made, subjects, strict=True):
        sex = _sex_value(row.sex)
        condition = conditions[row.id]
        table.rows.append([
            label, *([cell(row.designation)] if with_dataset else []),
            *([cell(row.external_id)] if with_source_id else []), cell(sex),
            cell(row.age_at_baseline),
            cell(condition_rows[condition].designation if condition is not None else None),
            *(cell(values.get((row.id, measure.id))) for measure in measures)])
    table.dictionary = _dictionary(
        with_dataset=with_dataset, label_description=label_description,
        datasets={row.designation: row.description for row in subjects},
        sexes={_sex_value(row.sex) for row in subjects} - {None},
        conditions=[condition_rows[c] for c in sorted(
            {c for c in conditions.values() if c is not None},
            key=lambda c: condition_rows[c].designation)],
        measures=measures, with_source_id=with_source_id)
    return table


def _sex_value(sex: Any) -> str | None:
    text = str(getattr(sex, "value", sex)) if sex is not None else None
    return text if text in SEX_LEVELS else None


def _rows_by_id(model: Any, ids: Iterable[int]) -> dict[int, Any]:
    ids = sorted(ids)
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _conditions_of(subjects: Sequence[Any], subject_ids: Select) -> dict[int, int | None]:
    """Each subject's condition id: its own (datasets that diagnose per subject), else that of
    its first visit (smallest day since baseline, then visit id) that has one."""
    conditions = {row.id: row.condition_id for row in subjects}
    if all(condition is not None for condition in conditions.values()):
        return conditions
    visits = db.session.execute(
        select(Visit.subject_id, Visit.condition_id)
        .join(Subject, Subject.id == Visit.subject_id)
        .where(Subject.id.in_(subject_ids), Subject.condition_id.is_(None),
               Visit.condition_id.is_not(None), not_deleted(Subject, Visit))
        .order_by(Visit.subject_id, Visit.days_since_baseline, Visit.id))
    for subject_id, condition_id in visits:
        if subject_id in conditions and conditions[subject_id] is None:
            conditions[subject_id] = condition_id
    return conditions


def _measure_values(subject_ids: Select) -> tuple[list[Any], dict[tuple[int, int], Any]]:
    """The measures the subjects have (by designation) and each (subject, measure)'s value:
    the latest for a per-subject measure, else the first (smallest day since baseline)."""
    # The subjects go as a subquery, not a list: a dataset may have 100,000 of them.
    rows = db.session.execute(
        select(Assessment.subject_id, Assessment.measure_id, Assessment.value_number,
               Assessment.value_text)
        .join(Subject, Subject.id == Assessment.subject_id)
        .where(Subject.id.in_(subject_ids), not_deleted(Subject))
        .order_by(Assessment.subject_id, Assessment.measure_id, Assessment.days_since_baseline)
    ).all()
    measures = _rows_by_id(Measure, {row.measure_id for row in rows})
    values: dict[tuple[int, int], Any] = {}
    for row in rows:
        key = (row.subject_id, row.measure_id)
        value = row.value_text if row.value_text is not None else row.value_number
        # Rows come by day: the first one stays, unless the measure is a trait (latest wins).
        if key not in values or measures[row.measure_id].per_subject:
            values[key] = value
    return sorted(measures.values(), key=lambda measure: measure.designation), values


def _levels(levels: Any) -> dict[str, str]:
    """A measure's levels as BIDS Levels: {value: description} (a list names itself, in its
    order; a mapping's keys are sorted, as PostgreSQL's JSON keeps no order of keys)."""
    if isinstance(levels, dict):
        return {str(key): str(levels[key]) for key in sorted(levels, key=str)}
    return {str(level): str(level) for level in levels or []}


def _dictionary(*, with_dataset: bool, with_source_id: bool, label_description: str,
                datasets: dict[str, str | None], sexes: set[str],
                conditions: list[Any], measures: list[Any]) -> dict[str, dict[str, Any]]:
    """participants.json for the table's columns (see the module docstring)."""
    dictionary: dict[str, dict[str, Any]] = {"participant_id": {
        "Description": label_description,
        "Annotations": {"IsAbout": {"TermURL": "nb:ParticipantID",
                                    "Label": "Unique participant identifier"},
                        "VariableType": "Identifier"}}}
    if with_dataset:
        dictionary["dataset"] = {
            "Description": "The source dataset of the participant (its MBID-db designation).",
            "Levels": {name: description or name
                       for name, description in sorted(datasets.items())}}
    if with_source_id:
        dictionary[SOURCE_ID] = {"Description": "The participant's id in its dataset."}
    dictionary["sex"] = {
        "Description": "Sex of the participant, as the source dataset records it.",
        "Levels": {value: label for value, label in SEX_LEVELS.items() if value in sexes},
        "Annotations": {
            "IsAbout": {"TermURL": "nb:Sex", "Label": "Sex"}, "VariableType": "Categorical",
            "Levels": {value: {"TermURL": SEX_TERMS[value], "Label": SEX_LEVELS[value]}
                       for value in SEX_LEVELS if value in sexes and value in SEX_TERMS},
            "MissingValues": [MISSING]}}
    dictionary["age"] = {
        "Description": "Age of the participant at baseline (the first visit of the dataset).",
        "Units": "years",
        "Annotations": {"IsAbout": {"TermURL": "nb:Age", "Label": "Chronological age"},
                        "VariableType": "Continuous",
                        "Format": {"TermURL": "nb:FromFloat", "Label": "float value"},
                        "MissingValues": [MISSING]}}
    dictionary["condition"] = {
        "Description": "Harmonised diagnosis (MBID-db's master list of conditions): the "
                       "participant's own where the dataset diagnoses per participant, else "
                       "that of the participant's first visit with a diagnosis.",
        "Levels": {c.designation: c.description or c.designation for c in conditions},
        "Annotations": {
            "IsAbout": {"TermURL": "nb:Diagnosis", "Label": "Diagnosis"},
            "VariableType": "Categorical",
            "Levels": {c.designation: {"TermURL": c.term_url, "Label": c.designation}
                       for c in conditions if c.term_url},
            "MissingValues": [MISSING]}}
    for measure in measures:
        which = ("the participant's latest value (a per-participant trait)"
                 if measure.per_subject else
                 "the value at the participant's first assessment of it (earliest day since "
                 "baseline)")
        entry: dict[str, Any] = {
            "Description": f"{measure.description or measure.designation}: {which}."}
        if measure.unit:
            entry["Units"] = measure.unit
        if str(getattr(measure.kind, "value", measure.kind)) == "category":
            entry["Levels"] = _levels(measure.levels)
        if measure.term_url:
            entry["TermURL"] = measure.term_url
        dictionary[measure.designation] = entry
    return dictionary
