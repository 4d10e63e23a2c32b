"""Seed loaders: the master lists every dataset relies on (datasets, conditions, file types,
measures)."""
from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, Boolean, Column, Enum, Float, Integer, String
from sqlalchemy.orm import Session

from load_db.engine import LoadError, LoadReport, read_table, upsert
from load_db.engine.cells import convert_column, from_table, json_value, to_float, to_int, to_text
from load_db.engine.tables import FIRST_DATA_ROW, HEADER_ROW
from load_db.engine.validation import text_problem

# Columns a master list never sets: the database fills them.
STORED_ONLY = frozenset({"id", "created_at", "updated_at"})
# How a yes/no cell may be written (in lower case).
BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
# The columns naming a controlled-vocabulary concept (conditions, measures): all or none.
TERM_COLUMNS = ("vocabulary", "term_code", "term_url")

Row = dict[str, Any]
# A model's own rule on a typed row: the (column, problem) of the first breach, or None.
RowCheck = Callable[[Row], tuple[str, str] | None]


def find_seed_file(seed_dir: Path, stem: str) -> Path:
    """Return seed_dir/stem with the first extension present (.xls, .xlsx, then .csv)."""
    for suffix in (".xls", ".xlsx", ".csv"):
        candidate = seed_dir / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return seed_dir / f"{stem}.xls"  # read_table then reports the missing file by this name


def _text_converter(limit: int | None) -> Callable[[str], str | None]:
    def convert(text: str) -> str | None:
        value = to_text(text)
        problem = None if value is None else text_problem(value, limit)
        if problem is not None:
            raise ValueError(problem)
        return value
    return convert


def _json_object(text: str) -> dict[str, Any] | None:
    """A cell holding a JSON object (the levels of a measure, say); None when empty."""
    if to_text(text) is None:
        return None
    value = json_value(text)  # a JSONDecodeError is a ValueError, with line and column
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object: {text.strip()!r}")
    return value


def cell_converter(column: Column) -> Callable[[str], Any]:
    """The parser of a master list's cells for one model column, chosen by the column's type.

    Text is stripped and must fit the column; an enum cell is one of its values (stored as the
    member); numbers are finite; a boolean is true/false (yes/no, 1/0); a JSON column takes a
    JSON object. An empty cell is None, or the column's default when it has one. Pure.
    """
    kind = column.type
    if isinstance(kind, Enum) and kind.enum_class is not None:
        members: dict[str, enum.Enum] = {member.value: member for member in kind.enum_class}
        convert: Callable[[str], Any] = from_table(members)
    elif isinstance(kind, Boolean):
        lookup = from_table(BOOLEANS)
        convert = lambda text: lookup(text.lower())  # noqa: E731 - a one-line adapter
    elif isinstance(kind, Integer):
        convert = to_int
    elif isinstance(kind, Float):
        convert = to_float
    elif isinstance(kind, JSON):
        convert = _json_object
    else:
        convert = _text_converter(kind.length if isinstance(kind, String) else None)
    default = column.default.arg if column.default is not None and column.default.is_scalar \
        else None

    def converted(text: str) -> Any:
        value = convert(text)
        if value is None and default is not None:
            return default
        if value is None and not column.nullable:
            raise ValueError("empty value")
        return value
    return converted


def term_problem(row: Row) -> tuple[str, str] | None:
    """What is wrong with a row's vocabulary term, as (column, problem); None: nothing. Pure.

    A term is all three of vocabulary, term_code and term_url, or none of them; its URL is an
    https address.
    """
    given = [column for column in TERM_COLUMNS if row.get(column) is not None]
    if given and len(given) < len(TERM_COLUMNS):
        missing = next(column for column in TERM_COLUMNS if column not in given)
        return missing, f"empty, but {', '.join(given)} given: a term needs all of " \
                        f"{', '.join(TERM_COLUMNS)}"
    url = row.get("term_url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or " " in url:
            return "term_url", f"{url!r} is not an https URL"
    return None


def read_master_list(path: Path, model: type, check: RowCheck | None = None) -> list[Row]:
    """Read a master list of `model`: one row per designation (non-empty, unique), each cell
    typed by the model column of the same name (see cell_converter).

    Columns besides `designation` are optional; a column the model lacks is an error, as is a
    vocabulary term given in part or with a URL that is not https. `check` adds the model's
    own rules.

    Raises
    ------
    LoadError
        Naming the file, row and column of the first bad cell.
    """
    frame = read_table(path, required=["designation"], key="designation")
    table = model.__table__
    unknown = [name for name in frame.columns if name not in table.c or name in STORED_ONLY]
    if unknown:
        allowed = [c.name for c in table.c if c.name not in STORED_ONLY]
        raise LoadError(f"unknown column (allowed: {', '.join(allowed)})", file=path,
                        row=HEADER_ROW, column=unknown[0])
    columns = {name: convert_column(frame, name, cell_converter(table.c[name]), path)
               for name in frame.columns}
    names = list(columns)
    rows = [dict(zip(names, values, strict=True))
            for values in zip(*columns.values(), strict=True)]
    checks = [term_problem] if set(TERM_COLUMNS) & set(frame.columns) else []
    checks += [check] if check is not None else []
    for number, row in enumerate(rows, start=FIRST_DATA_ROW):
        for row_check in checks:
            problem = row_check(row)
            if problem is not None:
                raise LoadError(problem[1], file=path, row=number, column=problem[0])
    return rows


def load_master_list(session: Session, model: type, path: Path,
                     check: RowCheck | None = None) -> LoadReport:
    """Upsert every row of the master list at `path` into `model`, keyed on designation.

    `check` (a pure row -> (column, problem) or None) adds the model's own rules; the first
    problem stops the load with a LoadError naming the file, row and column.
    """
    rows = read_master_list(path, model, check)
    report = LoadReport()
    report.add(model.__tablename__, upsert(session, model, rows, ["designation"]))
    return report
