"""Strict conversion of cells read as strings; a bad cell names its file, row and column.

Dataset loaders read every cell as a string (load_db.engine.read_table), then turn each column
into Python values with the pure converters below. A converter raises ValueError on a bad cell;
`convert_column` turns that into a LoadError pointing at the cell.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from load_db.engine.errors import LoadError
from load_db.engine.tables import FIRST_DATA_ROW

T = TypeVar("T")


def to_float(text: str) -> float | None:
    """Return the cell as a float; '' is unknown (None). Raise ValueError when not a number."""
    if text == "":
        return None
    number = float(text)  # ValueError names the text
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {text!r}")
    return number


def to_int(text: str) -> int | None:
    """Return the cell as an int ('12' and '12.0' both give 12); '' is unknown (None)."""
    number = to_float(text)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"not a whole number: {text!r}")
    return int(number)


def to_text(text: str) -> str | None:
    """Return the cell, or None when it is empty."""
    return text or None


def from_table(table: Mapping[str, T], *, empty: T | None = None) -> Callable[[str], T | None]:
    """Return a converter looking a cell up in `table`; '' gives `empty`, any other code fails."""
    def convert(text: str) -> T | None:
        if text == "":
            return empty
        try:
            return table[text]
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
