"""Read CSV, TSV, XLS and XLSX files as tables of strings, and check their shape."""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from load_db.engine.errors import LoadError

HEADER_ROW = 1  # rows are numbered as a spreadsheet shows them: the header is row 1
FIRST_DATA_ROW = HEADER_ROW + 1


def _read_spreadsheet(path: Path, suffix: str, options: dict[str, Any]) -> pd.DataFrame:
    """Read an .xls (xlrd) or .xlsx (openpyxl) sheet; LoadError for any file they cannot read.

    A damaged workbook makes these binary parsers fail in many ways (IndexError, AssertionError,
    struct.error, BadZipFile, their own errors), none of them a program error here: each is
    bad input, named with the file.
    """
    if not path.is_file():
        raise LoadError("file not found", file=path)
    try:
        if suffix == ".xls":
            # pandas plans to drop xlrd for calamine; xlrd is the reader of record for .xls.
            # xlrd writes its warnings about a damaged file to stdout: sent to the void.
            with warnings.catch_warnings(), open(os.devnull, "w") as void:
                warnings.filterwarnings("ignore", message="The xlrd engine is deprecated")
                return pd.read_excel(path, engine="xlrd", engine_kwargs={"logfile": void},
                                     **options)
        return pd.read_excel(path, engine="openpyxl", **options)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise LoadError(f"cannot be read as a {suffix[1:].upper()} table (damaged or not a "
                        f"spreadsheet: {detail})", file=path) from exc


def _read_raw(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    options = {"dtype": str, "keep_default_na": False}
    if suffix in {".xls", ".xlsx"}:
        return _read_spreadsheet(path, suffix, options)
    try:
        if suffix in {".tsv", ".txt"}:
            return pd.read_csv(path, sep="\t", **options)
        if suffix == ".csv":
            return pd.read_csv(path, **options)
    except FileNotFoundError:
        raise LoadError("file not found", file=path) from None
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise LoadError(f"cannot be read as a {suffix[1:].upper()} table: {exc}",
                        file=path) from exc
    raise LoadError(f"unsupported table format {suffix!r} (use .csv, .tsv, .xls or .xlsx)",
                    file=path)


def read_table(path: str | Path, required: Iterable[str] = (),
               key: str | None = None) -> pd.DataFrame:
    """Read a table with every cell as a stripped string ('' when empty).

    Parameters
    ----------
    path
        A .csv, .tsv, .xls or .xlsx file.
    required
        Columns that must be present.
    key
        A column whose values must be non-empty and unique.

    Raises
    ------
    LoadError
        Naming the file, row and column of the first problem found.
    """
    path = Path(path)
    frame = _read_raw(path)
    frame.columns = [str(column).strip() for column in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise LoadError(f"missing required column (found: {', '.join(frame.columns)})",
                        file=path, row=HEADER_ROW, column=missing[0])
    if key is not None:
        check_key(frame[key], lambda position: {"file": path, "column": key,
                                                "row": position + FIRST_DATA_ROW})
    return frame


def check_key(keys: Sequence[Any] | pd.DataFrame, where: Callable[[int], dict[str, Any]],
              what: str = "value") -> None:
    """Raise LoadError at the first empty or repeated key: the one key check of every reader.

    Parameters
    ----------
    keys
        One key per row: a list of values, or a frame whose rows are the keys (several columns).
    where
        Row position -> the `file`, `row` and `column` to name (LoadError's keywords).
    what
        What a key names, for the message ("duplicate <what> ...").
    """
    if not isinstance(keys, pd.DataFrame):
        keys = list(keys)
        # The common case, a small clean list (one sessions.tsv per subject), checked without
        # building a frame: that cost more than parsing the file. Problems take the slow path,
        # which names them.
        if all(isinstance(key, str) and key for key in keys) and len(set(keys)) == len(keys):
            return
    frame = keys if isinstance(keys, pd.DataFrame) else pd.DataFrame({"key": keys})
    frame = frame.reset_index(drop=True)
    empty = (frame.isna() | (frame.astype(object) == "")).any(axis=1).to_numpy()
    if empty.any():
        position = int(np.flatnonzero(empty)[0])
        raise LoadError("empty value", **where(position))
    repeated = frame.duplicated().to_numpy()
    if repeated.any():
        position = int(np.flatnonzero(repeated)[0])
        same = (frame == frame.iloc[position]).all(axis=1).to_numpy()
        first = int(np.flatnonzero(same)[0])
        value = ", ".join(str(v) for v in frame.iloc[position])
        first_row = where(first).get("row")
        raise LoadError(f"duplicate {what} {value!r}"
                        + (f" (first at row {first_row})" if first_row is not None else ""),
                        **where(position))
