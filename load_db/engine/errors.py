"""The one error a load raises for bad input, naming the file, row and column."""
from __future__ import annotations

from pathlib import Path

# The exit code of a command whose input was at fault (click's usage errors use 2 too).
EXIT_BAD_INPUT = 2


class LoadError(Exception):
    """Bad input that stops a load; nothing of the load is written.

    `row` is the line number as a spreadsheet or text editor shows it (the header is row 1).
    """

    def __init__(self, message: str, *, file: str | Path | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.message, self.file, self.row, self.column = message, file, row, column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [str(self.file)] if self.file is not None else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message
