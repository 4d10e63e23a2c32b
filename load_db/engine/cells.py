"""Cells read as text turned into Python values: the one meaning of "missing", and one parser per
meaning of a number. Every reader (spreadsheets, BIDS tables, the engine's checks) uses these.

Two kinds of converter:

- strict ones (`to_float`, `to_int`, `from_table`) raise ValueError on a cell that is present but
  bad; `convert_column` turns that into a LoadError naming the file, row and column;
- lenient ones (`to_value`, `float_or_none`) never fail: they type what they can, for columns a
  reader keeps as they are or may leave unknown.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from load_db.engine.errors import LoadError
from load_db.engine.tables import FIRST_DATA_ROW

T = TypeVar("T")

# How tables write "no value" (BIDS says n/a; spreadsheets leave the cell blank or say NA).
MISSING_TEXT = frozenset({"", "n/a", "N/A", "NA", "na", "nan", "NaN"})
_INTEGER = re.compile(r"[+-]?(?:0|[1-9]\d*)")
# A decimal number as people write one; a leading zero ("007", an id or a code) keeps it text.
_NUMBER = re.compile(r"[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


# JSON documents read from files (sidecars, OMI-DB exports) are stored as JSON: deeper nesting
# than this, or an integer of more digits, is bad input (Python's parser and SQLite's JSON
# functions stop near 1,000 levels, Python's int() at 4,300 digits, with tracebacks).
MAX_JSON_DEPTH = 100
MAX_JSON_INTEGER_DIGITS = 100

# What a report, a message or a database cannot take as it is: control characters (NUL and
# newline included) and lone surrogates (the bytes of a file name that is not UTF-8).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by Python's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control characters and undecodable bytes written as escapes (\\x0a,
    \\xe9): safe to print, and stored alike by SQLite and PostgreSQL. Pure."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise ValueError(f"an integer of {len(digits.lstrip('-'))} digits (more than "
                         f"{MAX_JSON_INTEGER_DIGITS})")
    return int(digits)


# One decoder for every document: json.loads with parse_int builds a new one per call.
_DECODER = json.JSONDecoder(parse_int=_bounded_int)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def json_value(text: str) -> Any:
    """Parse JSON text into a value both databases store and every reader can walk. Pure.

    Raises
    ------
    json.JSONDecodeError
        Corrupt JSON (with its line and column).
    ValueError
        Nested deeper than MAX_JSON_DEPTH, or an integer of more than MAX_JSON_INTEGER_DIGITS
        digits.
    """
    try:
        # json.loads names a byte order mark, which the decoder alone would call a bad value
        value = json.loads(text) if text.startswith("\ufeff") else _DECODER.decode(text)
    except RecursionError:
        value = None  # nested beyond what the parser can follow: deeper than any limit
        deep = True
    else:
        # Each level of nesting opens a bracket: a text with few brackets (every sidecar) cannot
        # be too deep, and counting them is far cheaper than walking the parsed value.
        deep = (text.count("{") + text.count("[") > MAX_JSON_DEPTH
                and _deeper_than(value, MAX_JSON_DEPTH))
    if deep:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def is_missing(text: str | None) -> bool:
    """Whether a cell holds no value: None, blank, or one of MISSING_TEXT."""
    return text is None or text.strip() in MISSING_TEXT


def to_value(text: str | None) -> Any:
    """A cell as None, int, float or the stripped string (lenient; for kept columns). Pure.

    Numbers with a leading zero ("007") stay text: they are codes, and ints would lose the zero;
    so do integers of more than MAX_JSON_INTEGER_DIGITS digits.
    Numbers become numbers so that JSON columns (symptoms, metadata) compare and query as
    numbers; a non-finite one ("inf") stays text.
    """
    if is_missing(text):
        return None
    text = text.strip()
    if _INTEGER.fullmatch(text):
        # A longer integer is no count or measure: kept as text (int() refuses 4,300 digits).
        return int(text) if len(text.lstrip("+-")) <= MAX_JSON_INTEGER_DIGITS else text
    if _NUMBER.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    return text


def float_or_none(text: str | None) -> float | None:
    """A cell as a float; None when missing or not a number (lenient). Pure."""
    value = to_value(text)
    return float(value) if isinstance(value, int | float) else None


def to_float(text: str | None) -> float | None:
    """A cell as a finite float; None when missing. Raise ValueError when not a number."""
    if is_missing(text):
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text.strip()!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {text.strip()!r}")
    return number


def to_int(text: str | None) -> int | None:
    """A cell as an int ('12' and '12.0' both give 12); None when missing; ValueError when not
    a whole number."""
    number = to_float(text)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"not a whole number: {text.strip()!r}")
    return int(number)


def to_text(text: str | None) -> str | None:
    """The stripped cell, or None when it is missing."""
    return None if is_missing(text) else text.strip()


def from_table(table: Mapping[str, T], *, empty: T | None = None) -> Callable[[str], T | None]:
    """A converter looking a cell up in `table`; a missing cell gives `empty`, any other code
    not in the table is a ValueError."""
    def convert(text: str) -> T | None:
        if is_missing(text):
            return empty
        try:
            return table[text.strip()]
        except KeyError:
            expected = ", ".join(repr(code) for code in table)
            raise ValueError(f"unknown value {text!r} (expected one of {expected})") from None
    return convert


def convert_column(frame: pd.DataFrame, column: str, convert: Callable[[str], Any],
                   file: str | Path) -> list[Any]:
    """Convert every cell of `column` of a read_table frame with the pure `convert`.

    Raises
    ------
    LoadError
        At the first cell `convert` rejects, naming `file`, its row (header = row 1) and `column`.
    """
    values = []
    for position, text in enumerate(frame[column]):
        try:
            values.append(convert(text))
        except ValueError as exc:
            raise LoadError(str(exc), file=file, row=position + FIRST_DATA_ROW,
                            column=column) from None
    return values


def source_rows(frame: pd.DataFrame) -> list[int]:
    """The row number of each row of a read_table frame, as a spreadsheet shows it."""
    return list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame)))
