"""Who and where a series was acquired: subject and visit ids, sex and age, the scanner.

The subject is the PatientID by default, or a capture of a naming convention (DATMAN's
STUDY_SITE_SUBJECT_TIMEPOINT_SESSION) from PatientID, PatientName or the series folder path,
optionally replaced by a keyed pseudonym (HMAC-SHA256 with a secret from the environment).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from load_db.dicom.rules import RulesError

SUBJECT_KEYS = {"source", "pattern", "convention", "pseudonym", "secret_env"}
SOURCES = ("PatientID", "PatientName", "path")
DEFAULT_SECRET_ENV = "MBID_PSEUDONYM_SECRET"
# DATMAN: STUDY_SITE_SUBJECT is the participant, TIMEPOINT the visit, SESSION a scan session of
# it (a visit split over two studies keeps one timepoint).
CONVENTIONS = {
    "datman": r"^(?P<subject>[a-z0-9]+_[a-z0-9]+_[a-z0-9]+)_(?P<visit>[a-z0-9]+)_[a-z0-9]+$",
}
SEX = {"M": "male", "F": "female", "O": "other"}
AGE_UNITS = {"Y": 1.0, "M": 12.0, "W": 365.25 / 7, "D": 365.25}
# Vendor names as the scanners write them -> one spelling.
VENDORS = (("siemens", "Siemens"), ("ge ", "GE"), ("ge_", "GE"), ("gems", "GE"),
           ("general electric", "GE"), ("philips", "Philips"), ("toshiba", "Toshiba"),
           ("canon", "Canon"), ("hitachi", "Hitachi"), ("united imaging", "UIH"),
           ("uih", "UIH"), ("bruker", "Bruker"))
NOMINAL_TESLA = (0.2, 0.3, 0.35, 0.5, 1.0, 1.2, 1.5, 3.0, 4.0, 5.0, 7.0, 9.4, 10.5, 11.7)


@dataclass(frozen=True)
class SubjectRule:
    """Where the subject (and perhaps visit) id of a series comes from."""

    source: str = "PatientID"
    pattern: re.Pattern[str] | None = None
    pseudonym_secret: bytes | None = None

    def ids(self, patient_id: str, patient_name: str, folder: str) -> tuple[str, str | None]:
        """Return (subject id, visit id or None) for one series.

        Raises
        ------
        ValueError
            When the source value is empty or does not match the naming convention.
        """
        value = {"PatientID": patient_id, "PatientName": patient_name, "path": folder}[
            self.source]
        visit = None
        if self.pattern is not None:
            match = self.pattern.search(value)
            if match is None:
                raise ValueError(f"{self.source} does not match the subject pattern")
            value, visit = match.group("subject"), match.groupdict().get("visit")
        if not value:
            raise ValueError(f"empty {self.source}")
        return pseudonym(value, self.pseudonym_secret) if self.pseudonym_secret else value, visit


def subject_rule(settings: dict[str, Any], file: Path | str = "subject settings") -> SubjectRule:
    """Build the subject rule from the `subject` mapping of a rules file."""
    unknown = sorted(set(settings) - SUBJECT_KEYS)
    if unknown:
        raise RulesError(f"unknown key (allowed: {', '.join(sorted(SUBJECT_KEYS))})", file=file,
                         key=f"subject.{unknown[0]}")
    source = settings.get("source", "PatientID")
    if source not in SOURCES:
        raise RulesError(f"{source!r} is not one of {', '.join(SOURCES)}", file=file,
                         key="subject.source")
    pattern_text = settings.get("pattern")
    if "convention" in settings:
        if settings["convention"] not in CONVENTIONS:
            raise RulesError(f"unknown convention (known: {', '.join(CONVENTIONS)})", file=file,
                             key="subject.convention")
        pattern_text = CONVENTIONS[settings["convention"]]
    pattern = None
    if pattern_text is not None:
        try:
            pattern = re.compile(str(pattern_text), re.IGNORECASE)
        except re.error as exc:
            raise RulesError(f"bad regular expression: {exc}", file=file,
                             key="subject.pattern") from exc
        if "subject" not in pattern.groupindex:
            raise RulesError("the pattern needs a (?P<subject>...) group", file=file,
                             key="subject.pattern")
    secret = None
    if settings.get("pseudonym"):
        variable = settings.get("secret_env", DEFAULT_SECRET_ENV)
        if not os.environ.get(variable):
            raise RulesError(f"pseudonyms need a secret in the environment variable {variable}",
                             file=file, key="subject.pseudonym")
        secret = os.environ[variable].encode()
    return SubjectRule(source, pattern, secret)


def pseudonym(value: str, secret: bytes | None) -> str:
    """A stable pseudonym of `value`: HMAC-SHA256 with `secret` (a plain hash without one)."""
    digest = (hmac.new(secret, value.encode(), hashlib.sha256) if secret
              else hashlib.sha256(value.encode()))
    return digest.hexdigest()[:16]


def carries_name(subject: str, patient_name: str) -> bool:
    """True when a subject id is the patient's name or one of its parts (A^B^C)."""
    parts = {part.strip().upper() for part in [patient_name, *patient_name.split("^")]}
    return subject.strip().upper() in parts - {""}


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
    """A DICOM DA value (YYYYMMDD) as a date, or None."""
    text = str(value or "").strip().replace("-", "").replace(".", "")
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


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


def serial_number(value: Any, secret: bytes | None) -> str:
    """DeviceSerialNumber is an identifier under PS3.15: stored as a pseudonym ('' if none)."""
    text = str(value or "").strip()
    return f"sn-{pseudonym(text, secret)[:12]}" if text else ""
