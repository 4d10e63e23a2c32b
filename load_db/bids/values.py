"""BIDS text files: TSV parsing, JSON objects, participants.json levels (cells: engine.cells)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from load_db.engine.cells import json_value
from load_db.engine.errors import LoadError
from load_db.engine.tables import FIRST_DATA_ROW, HEADER_ROW, check_key


def parse_tsv(text: str, file: str, *, required: Iterable[str] = (),
              key: str | None = None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Parse BIDS TSV text into (columns, [(row number, {column: stripped string})]).

    Column names are stripped (real files carry trailing spaces); blank lines are skipped;
    trailing empty cells beyond the header are tolerated (a trailing tab).

    Raises
    ------
    LoadError
        Naming `file`, the row (the header is row 1) and the column: an empty or repeated
        header, a row with too few or too many cells, a missing `required` column, an empty or
        repeated `key` value.
    """
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise LoadError("empty file: no header row", file=file, row=HEADER_ROW)
    columns = [name.strip() for name in lines[0].split("\t")]
    for position, name in enumerate(columns):
        if not name:
            raise LoadError(f"empty column name (column {position + 1})", file=file, row=HEADER_ROW)
        if name in columns[:position]:
            raise LoadError("repeated column name", file=file, row=HEADER_ROW, column=name)
    missing = [name for name in required if name not in columns]
    if missing:
        raise LoadError(f"missing required column (found: {', '.join(columns)})",
                        file=file, row=HEADER_ROW, column=missing[0])
    rows = []
    for row_number, line in enumerate(lines[1:], start=FIRST_DATA_ROW):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        while len(cells) > len(columns) and not cells[-1]:
            cells.pop()
        if len(cells) < len(columns):
            raise LoadError(f"{len(cells)} cells where the header has {len(columns)}",
                            file=file, row=row_number, column=columns[len(cells)])
        if len(cells) > len(columns):
            raise LoadError(f"{len(cells)} cells where the header has {len(columns)}: "
                            f"extra value {cells[len(columns)]!r} after the last column",
                            file=file, row=row_number, column=columns[-1])
        rows.append((row_number, dict(zip(columns, cells, strict=True))))
    if key is not None:
        check_key([row[key] for _, row in rows],
                  lambda position: {"file": file, "row": rows[position][0], "column": key})
    return columns, rows


def parse_json(text: str, file: str) -> dict[str, Any]:
    """Parse a JSON object; LoadError naming the file (and the line and character when it is
    corrupt), also when it nests too deep or holds too large an integer (engine.cells)."""
    try:
        data = json_value(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"corrupt JSON: {exc.msg} (line {exc.lineno}, character {exc.colno})",
                        file=file, row=exc.lineno) from None
    except ValueError as exc:  # too deep, or too large a number
        raise LoadError(f"unusable JSON: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise LoadError(f"a JSON object was expected, found {type(data).__name__}", file=file)
    return data


def levels_of(description: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Map each column of a participants.json to its `Levels` {code: description}. Pure.

    A level is either a string or an object with a `Description` (BIDS 1.9 allows both).
    """
    levels = {}
    for column, spec in description.items():
        coded = spec.get("Levels") if isinstance(spec, Mapping) else None
        if isinstance(coded, Mapping):
            levels[column.strip()] = {
                str(code): str(level.get("Description", code) if isinstance(level, Mapping)
                               else level)
                for code, level in coded.items()}
    return levels
