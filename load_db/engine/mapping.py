"""A dataset's mapping file (load_db/<DATASET>/mapping.yaml): its labels and columns onto the
master conditions and measures, read and validated here, and applied by pure functions.

The file has three keys (every one optional):

conditions
    How the dataset's own diagnosis labels become master condition designations: `values`
    (exact label -> designation), checked first, then ordered `rules` (the first whose `when`
    holds wins). A rule tests fields of the label: the named groups of the `fields` regular
    expression, matched against the whole label (without `fields`, the one field `label`).
    `column` names the column of the labels where the reader does not know it (BIDS:
    a participants.tsv column). A label given `null` (in `values`, or as a rule's
    `condition`) is one the mapping knows has no master condition. `unmapped` says what a
    label the mapping does not cover does: `error` (the default) stops the load naming its
    file, row and column; `report` keeps the row with its raw label and no condition, and
    the load report lists the label (`flask load --strict` stops at it all the same).
measures
    Which column of which file gives which master measure: `measure` (designation), `file`,
    `column`, `level` (visit or subject), `values` (raw value -> level or number, applied
    first), `scale` and `offset` (value * scale + offset: unit conversions).
missing
    The spellings of a missing value (a cell with one of them gives no assessment).

The mapping's version is the sha256 of the file's bytes: every row a load or `flask harmonise`
writes with it carries that version.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from load_db.engine.errors import LoadError

MAPPING_FILE = "mapping.yaml"
DEFAULT_MISSING = ("", "NA", "N/A", "n/a", "nan", "NaN")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return pattern


class FieldTest(_Strict):
    """What one field of a label must be for a rule to hold (all tests given must pass).

    `equals` and `one_of` compare as numbers when both sides are numbers, else as text;
    `min` / `max` (inclusive) need a number; `matches` / `not_matches` search a regex.
    """

    equals: str | float | None = None
    one_of: list[str | float] | None = None
    min: float | None = None
    max: float | None = None
    matches: str | None = None
    not_matches: str | None = None

    _check_matches = field_validator("matches", "not_matches")(_regex)

    def holds(self, value: str | None) -> bool:
        """Whether the field's value (text, None when absent) passes every test."""
        text = "" if value is None else value
        if self.equals is not None and not _same(text, self.equals):
            return False
        if self.one_of is not None and not any(_same(text, item) for item in self.one_of):
            return False
        if self.min is not None or self.max is not None:
            number = _number(text)
            if number is None or (self.min is not None and number < self.min) \
                    or (self.max is not None and number > self.max):
                return False
        if self.matches is not None and re.search(self.matches, text) is None:
            return False
        return self.not_matches is None or re.search(self.not_matches, text) is None


class Rule(_Strict):
    """One ordered condition rule: when every field test holds, the label maps to `condition`
    (None: to no master condition)."""

    condition: str | None
    when: dict[str, FieldTest] = Field(default_factory=dict)


class Unmapped(StrEnum):
    """What a load does with a label the mapping does not cover."""

    ERROR = "error"    # stop, naming the label's file, row and column
    REPORT = "report"  # keep the raw label without a condition; list it in the load report


class ConditionMapping(_Strict):
    # The column holding the labels, for adapters that read any dataset (BIDS participants.tsv).
    column: str | None = None
    values: dict[str, str | None] = Field(default_factory=dict)
    fields: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    unmapped: Unmapped = Unmapped.ERROR

    _check_fields = field_validator("fields")(_regex)

    @model_validator(mode="after")
    def _rules_test_known_fields(self) -> ConditionMapping:
        names = set(re.compile(self.fields).groupindex) if self.fields else {"label"}
        for position, rule in enumerate(self.rules):
            unknown = sorted(set(rule.when) - names)
            if unknown:
                raise ValueError(f"rule {position + 1} tests {unknown[0]!r}, which is not a "
                                 f"field of the labels (fields: {', '.join(sorted(names))})")
        return self


class Level(StrEnum):
    VISIT = "visit"
    SUBJECT = "subject"


class MeasureSource(_Strict):
    """One column of one file giving one master measure."""

    measure: str
    file: str
    column: str
    level: Level = Level.VISIT
    values: dict[str, str | float] = Field(default_factory=dict)
    scale: float = 1.0
    offset: float = 0.0

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, values: Any) -> Any:
        # YAML reads `0: x` with an integer key; a raw value is always text.
        return {str(key): value for key, value in values.items()} \
            if isinstance(values, dict) else values


class DatasetMapping(_Strict):
    conditions: ConditionMapping = Field(default_factory=ConditionMapping)
    measures: list[MeasureSource] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=lambda: list(DEFAULT_MISSING))

    @model_validator(mode="after")
    def _one_source_per_column(self) -> DatasetMapping:
        seen = set()
        for source in self.measures:
            key = (source.measure, source.column)
            if key in seen:
                raise ValueError(f"measure {source.measure!r} from column {source.column!r} "
                                 "is mapped twice")
            seen.add(key)
        return self


@dataclass(frozen=True)
class MappingFile:
    """A mapping file read and validated: its content, path and version (sha256 of its bytes)."""

    content: DatasetMapping
    path: Path
    version: str

    def condition_for(self, label: str) -> str | None:
        """The master condition of a label (None: none, by the mapping's `null`); KeyError
        when the mapping does not cover the label."""
        return condition_for(self.content.conditions, label)

    @property
    def reports_unmapped(self) -> bool:
        """Whether a label the mapping does not cover is reported (else it is an error)."""
        return self.content.conditions.unmapped is Unmapped.REPORT

    def source(self, measure: str, column: str) -> MeasureSource:
        """The entry of `measure` from `column`; KeyError when the mapping has none."""
        for source in self.content.measures:
            if source.measure == measure and source.column == column:
                return source
        raise KeyError(f"{self.path.name} maps no column {column!r} to measure {measure!r}")

    def sources_of(self, file: str) -> list[MeasureSource]:
        """The measures the mapping takes from `file` (a file name, as the mapping writes it)."""
        return [source for source in self.content.measures if source.file == file]



def read_mapping(path: str | Path) -> MappingFile:
    """Read and validate a mapping file; LoadError naming the file and key of a problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read the mapping file: {exc.strerror}", file=path) from None
    try:
        document = yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"not YAML: {exc}", file=path) from None
    if not isinstance(document, dict):
        raise LoadError("a mapping file is a YAML mapping (conditions, measures, missing)",
                        file=path)
    try:
        content = DatasetMapping.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise LoadError(f"key {key}: {error['msg']}", file=path) from None
    return MappingFile(content=content, path=path, version=hashlib.sha256(data).hexdigest())


# --- applying a mapping: pure functions ---------------------------------------------------------

def _number(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _same(text: str, expected: str | float) -> bool:
    number, wanted = _number(text), _number(str(expected))
    if number is not None and wanted is not None:
        return number == wanted
    return text == str(expected)


def condition_for(conditions: ConditionMapping, label: str) -> str | None:
    """The master condition designation of a dataset label, None when the mapping maps it to
    no condition (`null`); KeyError when nothing maps it."""
    if label in conditions.values:
        return conditions.values[label]
    if conditions.rules:
        if conditions.fields is None:
            fields: dict[str, str | None] = {"label": label}
        else:
            found = re.fullmatch(conditions.fields, label)
            if found is None:
                raise KeyError(f"the label does not match the mapping's fields "
                               f"{conditions.fields!r}")
            fields = found.groupdict()
        for rule in conditions.rules:
            if all(test.holds(fields.get(name)) for name, test in rule.when.items()):
                return rule.condition
    raise KeyError("no value or rule of the mapping maps it")


@dataclass(frozen=True)
class MeasureInfo:
    """What the engine checks a harmonised value against: a master measure's kind and range."""

    designation: str
    kind: str  # a MeasureKind value: number, ordinal, category
    minimum: float | None = None
    maximum: float | None = None
    levels: tuple[str, ...] = ()

    @classmethod
    def of(cls, designation: str, kind: Any, minimum: float | None, maximum: float | None,
           levels: Mapping[str, Any] | list[Any] | None) -> MeasureInfo:
        """From a Measure row's columns (levels: a {level: description} document or a list)."""
        return cls(designation, getattr(kind, "value", kind), minimum, maximum,
                   tuple(str(level) for level in (levels or ())))


Value = tuple[float | None, str | None]  # (value_number, value_text) of an assessment


def harmonised(raw: str | None, source: MeasureSource, measure: MeasureInfo,
               missing: Collection[str]) -> Value | None:
    """The harmonised (value_number, value_text) of a raw cell; None when it is missing.

    Raises ValueError saying why a value is not valid for the measure.
    """
    text = "" if raw is None or raw != raw else str(raw).strip()  # None or NaN: an empty cell
    if text in missing:
        return None
    value = source.values.get(text, text)
    if measure.kind == "category":
        level = str(value)
        if measure.levels and level not in measure.levels:
            raise ValueError(f"{text!r} gives {level!r}, not a level of {measure.designation} "
                             f"({', '.join(measure.levels)})")
        return None, level
    number = _number(str(value))
    if number is None:
        raise ValueError(f"{text!r} is not a number (measure {measure.designation})")
    number = number * source.scale + source.offset
    if measure.levels and not any(_same(level, number) for level in measure.levels):
        raise ValueError(f"{text!r} is not a level of {measure.designation} "
                         f"({', '.join(measure.levels)})")
    low = -math.inf if measure.minimum is None else measure.minimum
    high = math.inf if measure.maximum is None else measure.maximum
    if not low <= number <= high:
        raise ValueError(f"{text!r} gives {number:g}, outside {measure.designation}'s range "
                         f"{low:g} to {high:g}")
    return number, None
