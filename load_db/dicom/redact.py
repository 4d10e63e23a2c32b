"""Free text that names the patient: find and redact the patient's name parts and birth date.

Consoles let operators type anything into SeriesDescription or ProtocolName, and some type the
patient's name ("T1 MPRAGE Jane Doe") or birth date. Kept free text is checked against the
parts of PatientName (any order, any case, apart or run together: "Doe Jane", "JaneDoe") and the
birth date in the usual spellings (19800207, 1980-02-07, 07/02/1980, 07 Feb 1980, ...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

NAME_MARK = "[name]"
DATE_MARK = "[date]"
# Single letters (initials) are left alone: they would redact every one-letter word.
MIN_PART = 2
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")
DATE_SEPARATORS = ("", "-", "/", ".", " ", "_")


def name_parts(patient_name: str) -> list[str]:
    """The words of a DICOM PN value's family, given and middle names (in each `=` group).

    Prefixes and suffixes (Mr, Dr, Jr) are left out: they name no one and would redact words
    such as the modality MR.
    """
    parts = set()
    for group in patient_name.split("="):
        for component in group.split("^")[:3]:
            parts |= {word.lower() for word in re.split(r"[\W_]+", component)}
    # Numbers (a session's "01") are no part of a person's name.
    return sorted((part for part in parts if len(part) >= MIN_PART and not part.isdigit()),
                  key=lambda p: (-len(p), p))


def date_spellings(born: date) -> list[str]:
    """The ways a birth date is commonly written, year first or last, numbers or month names."""
    year, month, day = f"{born.year:04d}", born.month, born.day
    numbers = {(f"{month:02d}", f"{day:02d}"), (str(month), str(day))}
    spellings = set()
    for separator in DATE_SEPARATORS:
        for mm, dd in numbers:
            if separator == "" and (len(mm), len(dd)) != (2, 2):
                continue  # 1980 2 7 run together is ambiguous
            spellings |= {separator.join((year, mm, dd)), separator.join((dd, mm, year)),
                          separator.join((mm, dd, year))}
    for name in (MONTHS[month - 1], MONTH_NAMES[month - 1]):
        for dd in {f"{day:02d}", str(day)}:
            spellings |= {f"{dd} {name} {year}", f"{dd}{name}{year}", f"{dd}-{name}-{year}",
                          f"{name} {dd} {year}", f"{name} {dd}, {year}"}
    return sorted(spellings, key=lambda s: (-len(s), s))


@dataclass(frozen=True)
class Redactor:
    """Finds one patient's name parts and birth date in text."""

    names: re.Pattern[str] | None
    dates: re.Pattern[str] | None

    def redact(self, text: str) -> tuple[str, int]:
        """`text` with every match replaced by a mark, and the number of matches."""
        count = 0
        for pattern, mark in ((self.dates, DATE_MARK), (self.names, NAME_MARK)):
            if pattern is not None:
                text, found = pattern.subn(mark, text)
                count += found
        return text, count

    def found_in(self, text: str) -> bool:
        """Whether `text` names the patient or their birth date."""
        return any(pattern is not None and pattern.search(text)
                   for pattern in (self.dates, self.names))


def redactor(patient_name: str, birth_date: date | None) -> Redactor:
    """The redactor of one patient (from PatientName and the parsed PatientBirthDate)."""
    parts = name_parts(patient_name)
    # A run of parts (JaneDoe, DOEJANE) is one match; a letter before or after means the part
    # is inside another word ("Rest" in "Resting"), which is left alone.
    names = (re.compile(r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, parts))
                        + r")+(?![^\W\d_])", re.IGNORECASE) if parts else None)
    dates = (re.compile(r"(?<!\d)(?:" + "|".join(map(re.escape, date_spellings(birth_date)))
                        + r")(?!\d)", re.IGNORECASE) if birth_date else None)
    return Redactor(names, dates)


def redact_values(values: dict[str, Any], who: Redactor) -> tuple[dict[str, Any], list[str]]:
    """A copy of `values` with every string (also inside lists) redacted, and the keys changed."""
    changed = []
    result = {}
    for key, value in values.items():
        result[key], count = _redact_any(value, who)
        if count:
            changed.append(key)
    return result, changed


def _redact_any(value: Any, who: Redactor) -> tuple[Any, int]:
    if isinstance(value, str):
        return who.redact(value)
    if isinstance(value, list):
        pairs = [_redact_any(item, who) for item in value]
        return [item for item, _ in pairs], sum(count for _, count in pairs)
    return value, 0
