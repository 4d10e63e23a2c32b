"""The CSV text of a statement, in server-side batches: what format=csv and the dashboard's
export stream. Text cells that a spreadsheet would run as a formula are neutralised.
"""
from __future__ import annotations

import csv
import enum
import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select

from app.extensions import db

# Rows fetched per round trip; on PostgreSQL a server-side cursor holds the rest.
CSV_BATCH_ROWS = 2000
# A text cell starting with one of these is run as a formula by spreadsheets (OWASP CSV
# injection): such cells get a leading single quote, which makes them plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may split a line on when it guesses the separator (`;` in locales
# whose decimal mark is a comma, tab, `|`) or a line break: each piece they cut a cell into
# becomes a cell of its own, so a formula start after one of them is neutralised too.
CELL_SPLITTERS = (";", ",", "\t", "|", "\r", "\n")
# Every place a cell could start: the start of the text, or just after a splitter, followed
# (after spaces, which spreadsheets skip) by a formula start. A quote goes there.
_FORMULA_POSITION = re.compile(
    "(?:^|(?<=[" + re.escape("".join(CELL_SPLITTERS)) + "]))(?=[ ]*["
    + re.escape("".join(FORMULA_STARTS)) + "])")


def neutralise(text: str) -> str:
    """Return `text` made safe to open in a spreadsheet: a single quote before every formula
    start that begins the cell or follows a character a spreadsheet may split the cell on
    (`;=1+1` becomes `;'=1+1`)."""
    if not text:
        return text
    return _FORMULA_POSITION.sub("'", text)


# Separates the items of a list field (e.g. a subject's conditions) within one CSV cell.
CSV_LIST_SEPARATOR = "; "


def _csv_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return CSV_LIST_SEPARATOR.join(str(_csv_value(item)) for item in value)
    # Only text: a negative number is a number, not a formula.
    if isinstance(value, str):
        return neutralise(value)
    return value


def write_csv_lines(buffer: io.StringIO, rows: list[list[Any]]) -> None:
    """Append `rows` to `buffer` as CSV lines ending in \n.

    The csv module quotes a cell holding a carriage return only when the line terminator has
    one; a bare \r left unquoted splits the row for most readers. Such cells are rare, so the
    batch is written plainly, and rewritten line by line only if it holds a \r.
    """
    start = buffer.tell()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    if "\r" not in buffer.getvalue()[start:]:
        return
    buffer.seek(start)
    buffer.truncate()
    quoting_writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        quoting_writer.writerow(row)
        buffer.seek(buffer.tell() - 2)
        buffer.write("\n")
        buffer.truncate()


def csv_rows(
    statement: Select, columns: Sequence[str],
    on_end: Callable[[int, set[str]], None] | None = None,
) -> Iterator[str]:
    """Yield the CSV text of `statement`: a header of `columns`, then one line per row.

    `on_end(rows sent, dataset designations)` is called when the rows are sent, or when the
    client stops reading: what left the server is logged either way.
    """
    buffer = io.StringIO()
    write_csv_lines(buffer, [list(columns)])
    rows_sent, designations = 0, set()
    result = db.session.execute(statement.execution_options(yield_per=CSV_BATCH_ROWS))
    try:
        for batch in result.mappings().partitions():
            write_csv_lines(buffer, [[_csv_value(row[column]) for column in columns]
                                     for row in batch])
            rows_sent += len(batch)
            designations.update(row["dataset"] for row in batch if "dataset" in row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
    finally:
        result.close()
        if on_end is not None:
            on_end(rows_sent, designations)
