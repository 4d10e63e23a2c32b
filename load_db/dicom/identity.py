"""Who and where a series was acquired: subject and visit ids, sex and age, the scanner.

The subject comes from PatientID by default, or from a capture of a naming convention (DATMAN's
STUDY_SITE_SUBJECT_TIMEPOINT_SESSION) in PatientID, PatientName or the series folder path. It is
stored as it is only when the study configuration declares it a research id (a convention, a
pattern or a `research_id` regex); anything else (an MRN, a name) becomes a keyed pseudonym:
HMAC-SHA256 with the deployment's secret (load_db/dicom/secret.py), never a plain hash.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from pydicom.valuerep import DA

from load_db.dicom.redact import redactor
from load_db.dicom.secret import deployment_secret
from load_db.study import RulesError, Subject, validate

NOT_RESEARCH_ID = ("subject id not declared a research id by the study configuration "
                   "(subject.research_id, pattern or convention): stored as a keyed pseudonym")
NAME_AS_ID = "subject id is the patient's name: stored as a keyed pseudonym"
SEX = {"M": "male", "F": "female", "O": "other"}
AGE_UNITS = {"Y": 1.0, "M": 12.0, "W": 365.25 / 7, "D": 365.25}
# Vendor names as the scanners write them -> one spelling.
VENDORS = (("siemens", "Siemens"), ("ge ", "GE"), ("ge_", "GE"), ("gems", "GE"),
           ("general electric", "GE"), ("philips", "Philips"), ("toshiba", "Toshiba"),
           ("canon", "Canon"), ("hitachi", "Hitachi"), ("united imaging", "UIH"),
           ("uih", "UIH"), ("bruker", "Bruker"), ("hologic", "Hologic"))
NOMINAL_TESLA = (0.2, 0.3, 0.35, 0.5, 1.0, 1.2, 1.5, 3.0, 4.0, 5.0, 7.0, 9.4, 10.5, 11.7)


@dataclass(frozen=True)
class Session:
    """The session a series was acquired in, as the naming convention reads it."""

    name: str
    site: str
    phantom: bool


class SubjectIds(NamedTuple):
    """The ids of one series' subject and visit, and why the subject is a pseudonym (if so)."""

    subject: str
    visit: str | None
    note: str | None = None


@dataclass(frozen=True)
class SubjectRule:
    """Where the subject (and perhaps visit) id of a series comes from, and whether it may be
    stored as it is."""

    source: str = "PatientID"
    pattern: re.Pattern[str] | None = None
    research_id: re.Pattern[str] | None = None
    always_pseudonym: bool = False
    secret_env: str | None = None
    phantom_pattern: re.Pattern[str] | None = None

    @cached_property
    def secret(self) -> bytes:
        """The deployment's pseudonym key (created in instance/ on first use if none)."""
        return deployment_secret(self.secret_env)

    def session(self, patient_id: str, patient_name: str, folder: str) -> Session:
        """The session a series belongs to: its name, site and whether it is a phantom's.

        The site is the convention's (or the pattern's `(?P<site>...)` group), else "". The
        name is empty when no convention names the session (a raw PatientID may identify).
        """
        value = self._source_value(patient_id, patient_name, folder)
        for pattern, phantom in ((self.phantom_pattern, True), (self.pattern, False)):
            match = pattern.search(value) if pattern is not None else None
            if match is not None:
                return Session(match.group(0), (match.groupdict().get("site") or "").upper(),
                               phantom)
        return Session("", "", False)  # no convention: the reader names it by its visit

    def _source_value(self, patient_id: str, patient_name: str, folder: str) -> str:
        return {"PatientID": patient_id, "PatientName": patient_name,
                "path": folder}[self.source]

    def _declared(self, subject: str) -> bool:
        """Whether the study configuration declares `subject` a research id."""
        if self.research_id is not None:
            return self.research_id.fullmatch(subject) is not None
        return self.pattern is not None

    def _is_id(self, patient_name: str) -> bool:
        """Whether a PatientName is a session name of the study's naming convention (or
        pattern) rather than a person's name. A bare `research_id` regex does not say so: it
        may match a one-word name as well."""
        if not patient_name or "^" in patient_name:
            return False
        return any(pattern is not None and pattern.fullmatch(patient_name) is not None
                   for pattern in (self.pattern, self.phantom_pattern))

    def ids(self, patient_id: str, patient_name: str, folder: str) -> SubjectIds:
        """The subject id (as it is, or a keyed pseudonym) and visit id (or None) of a series.

        A visit captured by the pattern becomes a pseudonym when it carries the patient's name.

        Raises
        ------
        ValueError
            When the source value is empty or does not match the naming convention.
        """
        value = self._source_value(patient_id, patient_name, folder)
        visit = None
        if self.pattern is not None:
            match = self.pattern.search(value)
            if match is None:
                raise ValueError(f"{self.source} does not match the subject pattern")
            value, visit = match.group("subject"), match.groupdict().get("visit")
        if not value:
            raise ValueError(f"empty {self.source}")
        # A PatientName holding an id of the study (DATMAN sites write the session name in
        # both fields) names no person.
        name = "" if self.source == "PatientName" or self._is_id(patient_name) else patient_name
        if visit and carries_name(visit, name):
            visit = f"visit-{pseudonym(visit, self.secret)[:12]}"
        if self.always_pseudonym:
            return SubjectIds(pseudonym(value, self.secret), visit)
        note = (NOT_RESEARCH_ID if not self._declared(value)
                else NAME_AS_ID if carries_name(value, name) else None)
        return SubjectIds(value if note is None else pseudonym(value, self.secret), visit, note)


def subject_rule(settings: Subject | Mapping[str, Any],
                 file: Path | str = "subject settings") -> SubjectRule:
    """Build the subject rule from a study's subject settings (the model, or the `subject`
    mapping of a study file, checked here and named `file` in an error)."""
    if not isinstance(settings, Subject):
        settings = validate(Subject, dict(settings), file, ("subject",))
    variable = settings.secret_env
    if variable is not None and not os.environ.get(variable):
        # Checked when the rule is built, not when the file is read: the load's environment.
        raise RulesError(f"pseudonyms need a secret in the environment variable {variable}",
                         file=file, key="subject.secret_env")
    return SubjectRule(settings.source, _compiled(settings.subject_pattern),
                       _compiled(settings.research_id), settings.pseudonym, variable,
                       _compiled(settings.phantom_pattern))


def _compiled(text: str | None) -> re.Pattern[str] | None:
    return None if text is None else re.compile(text, re.IGNORECASE)


def pseudonym(value: str, secret: bytes) -> str:
    """A stable pseudonym of `value`: HMAC-SHA256 keyed with `secret` (16 hex digits).

    Raises
    ------
    ValueError
        Without a secret: a plain hash of an identifier can be re-identified by guessing.
    """
    if not secret:
        raise ValueError("a pseudonym needs the deployment secret")
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:16]


def study_visit(study_uid: str, secret: bytes) -> str:
    """The visit id of a study: `study-` and a keyed pseudonym of its StudyInstanceUID."""
    return f"study-{pseudonym(study_uid, secret)[:12]}"


def carries_name(value: str, patient_name: str) -> bool:
    """True when an id holds the patient's name or one of its parts (A^B^C), in any order or
    case, apart or run together ("Jane Doe" and "JANEDOE" for DOE^JANE)."""
    return redactor(patient_name, None).found_in(value)


def to_sex(value: Any) -> str:
    """PatientSex (M, F, O) -> a Sex value; anything else is unknown."""
    return SEX.get(str(value or "").strip().upper(), "unknown")


def parse_age(age: Any, birth_date: Any = None, study_date: Any = None) -> float | None:
    """Age in years from PatientAge ('031Y', '006M'), else from the birth and study dates.

    '000Y' is what many consoles write for an unknown age, so it counts as unknown.
    """
    match = re.fullmatch(r"(\d{1,3})([YMWD])", str(age or "").strip().upper())
    if match and int(match.group(1)) > 0:
        return round(int(match.group(1)) / AGE_UNITS[match.group(2)], 2)
    born, seen = parse_date(birth_date), parse_date(study_date)
    if born and seen and seen > born:
        return round((seen - born).days / 365.25, 2)
    return None


def parse_date(value: Any) -> date | None:
    """A DICOM DA value (YYYYMMDD, or the retired YYYY.MM.DD; an ISO date is read too) as a
    date, or None when empty or not a date."""
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    try:
        parsed = DA(str(value or "").strip().replace("-", ""))
    except ValueError:  # pydicom's message for anything that is not a calendar date
        return None
    # A plain date: pydicom's DA keeps its original text, which callers have no use for.
    return None if parsed is None else date(parsed.year, parsed.month, parsed.day)


def manufacturer(value: Any) -> str:
    """One spelling per vendor: 'SIEMENS', 'Siemens Healthineers' -> 'Siemens'."""
    text = " ".join(str(value or "").split())
    lowered = text.lower() + " "
    for prefix, name in VENDORS:
        if lowered.startswith(prefix):
            return name
    return text


def model_name(value: Any) -> str:
    """The model with surrounding and repeated spaces removed."""
    return " ".join(str(value or "").split())


def field_strength(value: Any) -> float | None:
    """Tesla, snapped to the nominal strength: 2.89 or '3T' -> 3.0; Gauss (15000) -> 1.5."""
    match = re.search(r"\d+(\.\d+)?", str(value or ""))
    if not match:
        return None
    tesla = float(match.group())
    if tesla > 100:  # some consoles write Gauss
        tesla /= 10_000
    nearest = min(NOMINAL_TESLA, key=lambda nominal: abs(nominal - tesla))
    return nearest if abs(nearest - tesla) <= 0.05 * nearest else round(tesla, 2)


def serial_number(value: Any, secret: bytes) -> str:
    """DeviceSerialNumber is an identifier under PS3.15: stored as a keyed pseudonym ('' if
    none)."""
    text = str(value or "").strip()
    return f"sn-{pseudonym(text, secret)[:12]}" if text else ""


def scanner_values(identity: Mapping[str, Any], secret: bytes) -> dict[str, str]:
    """An image's scanner columns from its header's Manufacturer, ManufacturerModelName and
    DeviceSerialNumber: the vendor in one spelling, the model, the serial as a pseudonym."""
    return {"manufacturer": manufacturer(identity["Manufacturer"]),
            "model": model_name(identity["ManufacturerModelName"]),
            "serial": serial_number(identity["DeviceSerialNumber"], secret)}
