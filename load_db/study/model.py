"""The study model: what a study configuration file (YAML) may say, checked by pydantic.

A study file may hold five keys:

- `rules`: a list of series rules. Each has a `name`, either a `type` (T1, DWI, rsfMRI,
  FieldMap) or an `ignore` reason, and conditions `when` (a mapping of fact -> test) and/or
  `any` (a list of such mappings). The rule language (what a test may say, how it is tried)
  belongs to the DICOM adapter (load_db/dicom/rules.py); this model keeps the conditions as
  written.
- `tags`: DATMAN-style study tags: tag name -> `type` or `ignore`, `SeriesDescription` (a regex
  or a list of them), optional `ImageType` (a regex) and `EchoNumber`, and for quality control
  `count` (series expected per visit, default 1) and `qc_kind` (e.g. anat, dti, func).
- `sites`: site name -> {tags: ...}: a site's own tags, replacing the study's tags of the same
  name for the series of that site.
- `subject`: where subject ids come from: `source` (PatientID, PatientName or path), a
  `convention` (datman) or a `pattern` with a (?P<subject>...) group, a `research_id` regex,
  `pseudonym` and `secret_env` (see load_db/dicom/identity.py).
- `drift`: how headers are compared with a tag's gold standard: `ignore` (a list of fields) and
  `tolerances` (field -> the absolute difference still accepted, e.g. EchoTime: 0.005).

`load_study` reads a study's file and then a default one; the first file wins key by key. Every
error is a RulesError naming the file and the key at fault (e.g. `tags.T1.count`).
"""
from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.models.enums import ImageType
from load_db.engine.errors import LoadError

IMAGE_TYPES = tuple(sorted(member.value for member in ImageType))
SOURCES = ("PatientID", "PatientName", "path")
# DATMAN: STUDY_SITE_SUBJECT is the participant, TIMEPOINT the visit, SESSION a scan session of
# it (a visit split over two studies keeps one timepoint).
CONVENTIONS = {
    "datman": (r"^(?P<subject>[a-z0-9]+_(?P<site>[a-z0-9]+)_[a-z0-9]+)_(?P<visit>[a-z0-9]+)"
               r"_[a-z0-9]+$"),
}
# A convention's phantoms: scans of an object, not of a participant, kept apart (DATMAN:
# STUDY_SITE_PHA_<3 letters><digits>, with no timepoint or session).
PHANTOMS = {
    "datman": r"^[a-z0-9]+_(?P<site>[a-z0-9]+)_PHA_[a-z]{3}[0-9]+$",
}
IGNORED_BY_TAG = "ignored by site tag"
# The errors this module raises with its own message; pydantic's own are replaced by the
# description of the field at fault ("'count' is a whole number (0 or more)").
OWN_ERRORS = {"regex", "type", "outcome", "name", "qc_kind", "source", "convention", "pattern"}


class RulesError(LoadError):
    """A study file that cannot be used: names the file and the key at fault."""

    def __init__(self, message: str, *, file: str | Path, key: str) -> None:
        self.key = key
        super().__init__(message, file=file, column=key)

    def __str__(self) -> str:
        return f"{self.file}, key {self.key!r}: {self.message}"


def _regex(value: str | None) -> str | None:
    """A regular expression that compiles (case-insensitive, as every pattern is used)."""
    if value is not None:
        try:
            re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise PydanticCustomError("regex", "bad regular expression: {error}",
                                      {"error": str(exc)}) from exc
    return value


def _text_keys(value: Any) -> Any:
    """YAML reads `1:` as a number: tag and site names are text."""
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Outcome(_Section):
    """What a rule or tag decides: a series type, or a reason to leave the series out."""

    type: Annotated[str | None, Field(
        description=f"'type' is one of {', '.join(IMAGE_TYPES)}")] = None
    ignore: Annotated[str | Literal[True] | None, Field(
        description="'ignore' is a reason (text), or true")] = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in IMAGE_TYPES:
            raise PydanticCustomError("type", "{value} is not one of {types}",
                                      {"value": repr(value), "types": ", ".join(IMAGE_TYPES)})
        return value

    @model_validator(mode="after")
    def _one_outcome(self) -> _Outcome:
        if (self.type is None) == (self.ignore is None):
            raise PydanticCustomError("outcome", "give exactly one of 'type' and 'ignore'")
        return self

    @property
    def reason(self) -> str | None:
        """The ignore reason as text (`ignore: true` has a standard one)."""
        return IGNORED_BY_TAG if self.ignore is True else self.ignore


Conditions = Annotated[dict[str, Any], Field(min_length=1,
                                             description="expected a mapping of fact -> test")]


class Rule(_Outcome):
    """One series rule as written: its conditions are compiled by the DICOM adapter."""

    name: Annotated[str, Field(min_length=1, description="a rule needs a name")]
    when: Conditions | None = None
    any: Annotated[list[Conditions] | None,
                   Field(min_length=1, description="'any' takes a list of mappings")] = None

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("name", "a rule needs a name")
        return value


class Tag(_Outcome):
    """One DATMAN-style study tag and what quality control expects of it."""

    SeriesDescription: Annotated[
        str | list[str], Field(description="a tag needs a SeriesDescription pattern")]
    ImageType: str | None = None
    EchoNumber: Any = None
    count: Annotated[int, Field(strict=True, ge=0,
                                description="'count' is a whole number (0 or more)")] = 1
    qc_kind: Annotated[str | None, Field(
        strict=True, description="'qc_kind' is a word such as anat, dti or func")] = None

    @field_validator("SeriesDescription")
    @classmethod
    def _descriptions(cls, value: str | list[str]) -> str | list[str]:
        for pattern in value if isinstance(value, list) else [value]:
            _regex(pattern)
        return value

    @field_validator("ImageType")
    @classmethod
    def _image_type(cls, value: str | None) -> str | None:
        return _regex(value)

    @field_validator("qc_kind")
    @classmethod
    def _word(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise PydanticCustomError("qc_kind", "'qc_kind' is a word such as anat, dti or func")
        return value

    @property
    def descriptions(self) -> list[str]:
        """The SeriesDescription patterns, one or several."""
        return self.SeriesDescription if isinstance(self.SeriesDescription, list) else [
            self.SeriesDescription]


Tags = Annotated[dict[str, Annotated[Tag, Field(description="a tag is a mapping")]],
                 Field(description="'tags' maps a tag name to its pattern")]


class Site(_Section):
    """A site's own tags."""

    tags: Tags = {}

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        return _text_keys(value)


class Drift(_Section):
    """How an image's header is compared with its tag's gold standard."""

    ignore: Annotated[list[str], Field(description="'ignore' is a list of header fields")] = []
    tolerances: Annotated[
        dict[str, Annotated[float, Field(strict=True, ge=0,
                                         description="a tolerance is a number, 0 or more")]],
        Field(description="'tolerances' maps a field to a number")] = {}

    @property
    def settings(self) -> dict[str, Any]:
        """{"ignore": sorted fields, "tolerances": {field: number}}, as a gold standard keeps
        them."""
        return {"ignore": sorted(self.ignore), "tolerances": dict(self.tolerances)}


class Subject(_Section):
    """Where a series' subject id comes from and whether it may be stored as it is."""

    source: Literal["PatientID", "PatientName", "path"] = "PatientID"
    convention: Annotated[str | None, Field(
        description=f"'convention' is one of {', '.join(CONVENTIONS)}")] = None
    pattern: Annotated[str | None, Field(description="'pattern' is a regular expression")] = None
    research_id: Annotated[str | None, Field(
        description="'research_id' is a regular expression")] = None
    pseudonym: Annotated[bool, Field(description="'pseudonym' is true or false")] = False
    secret_env: Annotated[str | None, Field(
        description="'secret_env' names an environment variable")] = None

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> Any:
        if value not in SOURCES:
            raise PydanticCustomError("source", "{value} is not one of {sources}",
                                      {"value": repr(value), "sources": ", ".join(SOURCES)})
        return value

    @field_validator("convention")
    @classmethod
    def _convention(cls, value: str | None) -> str | None:
        if value is not None and value not in CONVENTIONS:
            raise PydanticCustomError("convention", "unknown convention (known: {known})",
                                      {"known": ", ".join(CONVENTIONS)})
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None and "subject" not in re.compile(_regex(value)).groupindex:
            raise PydanticCustomError("pattern", "the pattern needs a (?P<subject>...) group")
        return value

    @field_validator("research_id")
    @classmethod
    def _research_id(cls, value: str | None) -> str | None:
        return _regex(value)

    @property
    def subject_pattern(self) -> str | None:
        """The pattern the subject (and visit) id is captured with: the convention's, else
        the file's own."""
        return CONVENTIONS[self.convention] if self.convention else self.pattern

    @property
    def phantom_pattern(self) -> str | None:
        """The pattern of the convention's phantom sessions, if it names them."""
        return PHANTOMS.get(self.convention or "")


class StudyFile(_Section):
    """One study file as written."""

    rules: Annotated[list[Annotated[Rule, Field(description="a rule is a mapping")]],
                     Field(description="'rules' is a list")] = []
    tags: Tags = {}
    sites: Annotated[
        dict[str, Annotated[Site, Field(description="a site is a mapping with tags")]],
        Field(description="'sites' maps a site name to its tags")] = {}
    subject: Annotated[Subject, Field(description="'subject' is a mapping")] = Subject()
    drift: Annotated[Drift | None, Field(
        description="'drift' is a mapping with ignore and tolerances")] = None

    @field_validator("tags", "sites", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _text_keys(value)


@dataclass(frozen=True)
class SourcedRule:
    """A rule with where it was written (to name it in an error)."""

    file: Path
    index: int
    rule: Rule

    @property
    def key(self) -> str:
        return f"rules[{self.index}]"


@dataclass
class Study:
    """A study's configuration, merged from its files (the first file wins key by key)."""

    rules: list[SourcedRule] = field(default_factory=list)
    tags: dict[str, Tag] = field(default_factory=dict)
    site_tags: dict[str, dict[str, Tag]] = field(default_factory=dict)
    subject: Subject = field(default_factory=Subject)
    # The file whose `subject` settings apply (to name it in an error).
    subject_file: Path | None = None
    drift: Drift | None = None

    def tags_for(self, site: str | None = None) -> dict[str, Tag]:
        """The tags that apply to a series of `site`: the study's, with the site's replacing."""
        return {**self.tags, **self.site_tags.get(site or "", {})}


def _unwrap(annotation: Any) -> tuple[Any, str | None]:
    """An annotation without Annotated (keeping its description) and None options."""
    description = None
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
            description = next((item.description for item in args[1:]
                                if getattr(item, "description", None)), description)
        elif origin in (Union, types.UnionType):
            options = [arg for arg in args if arg is not type(None)]
            annotation = next((arg for arg in options if _is_model(arg)
                               or typing.get_origin(arg) in (list, dict)), options[0])
        else:
            return annotation, description


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, str | None]:
    """The model holding `loc`'s last key (None if a list or mapping holds it) and the
    description of the field at `loc`, walking models, lists and mappings."""
    annotation: Any = model
    holder, description = None, None
    for step in loc:
        annotation, _ = _unwrap(annotation)
        if _is_model(annotation):
            holder, info = annotation, annotation.model_fields.get(str(step))
            if info is None:
                return holder, None
            annotation, description = info.rebuild_annotation(), info.description
        elif typing.get_origin(annotation) in (list, dict):
            # an item without a description of its own is described by its container's
            holder, annotation = None, typing.get_args(annotation)[-1]
        else:
            return holder, description
    return holder, _unwrap(annotation)[1] or description


def _key(loc: tuple[Any, ...]) -> str:
    """`('rules', 0, 'type')` -> 'rules[0].type'."""
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top)"


def _error(exc: ValidationError, file: Path, model: type[BaseModel],
           at: tuple[str, ...]) -> RulesError:
    """The first validation error as a RulesError naming the file and the key (under `at`)."""
    first = exc.errors()[0]
    # Pydantic names the member of a union it tried ("tags.T1.str"): not a key of the file.
    loc = tuple(step for step in first["loc"] if not (
        isinstance(step, str) and (step in ("str", "list[str]", "bool", "int", "float")
                                   or step.startswith(("literal[", "function-")))))
    kind = first["type"]
    holder, description = _walk(model, loc)
    if kind == "extra_forbidden":
        allowed = sorted(holder.model_fields) if holder is not None else []
        message = f"unknown key (allowed: {', '.join(allowed)})"
    elif kind in OWN_ERRORS:
        message = first["msg"]
    else:
        message = description or first["msg"]
    return RulesError(message, file=file, key=_key(at + loc))


def read_study_file(file: Path) -> StudyFile:
    """Read and check one study file."""
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read the rules file: {exc.strerror}", file=file,
                         key="(file)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise RulesError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file,
                         key=where) from exc
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise RulesError("a rules file is a mapping with rules, tags or subject", file=file,
                         key="(top)")
    return validate(StudyFile, content, file)


Section = typing.TypeVar("Section", bound=BaseModel)


def validate(model: type[Section], content: Any, file: Path | str,
             at: tuple[str, ...] = ()) -> Section:
    """`content` checked as `model`, or a RulesError naming `file` and the key at fault (`at`:
    where `content` sits in the file)."""
    try:
        return model.model_validate(content)
    except ValidationError as exc:
        raise _error(exc, file, model, at) from None


def load_study(*files: Path | None) -> Study:
    """Read the study files in order (None ones are skipped); the first file wins key by key:
    its tags over a later file's of the same name, its subject settings, its drift settings.
    The rules of all files are kept, the first file's tried first."""
    study = Study()
    subject: dict[str, Any] = {}
    for file in (path for path in files if path is not None):
        content = read_study_file(file)
        study.tags = {**content.tags, **study.tags}
        for site, spec in content.sites.items():
            study.site_tags[site] = {**spec.tags, **study.site_tags.get(site, {})}
        study.rules.extend(SourcedRule(file, index, rule)
                           for index, rule in enumerate(content.rules))
        if study.drift is None:
            study.drift = content.drift
        written = content.subject.model_dump(exclude_unset=True)
        if written and not subject:
            study.subject_file = file
        subject = {**written, **subject}
    study.subject = Subject.model_validate(subject)
    return study
