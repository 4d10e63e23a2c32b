"""The loading engine shared by every dataset: read, validate, upsert, report, run.

Its names are imported from their modules on first use, so a command that needs only the
engine's errors (e.g. `flask apikey`) does not import pandas with the rest of the engine.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from load_db.engine.errors import LoadError
    from load_db.engine.frames import DatasetFrames
    from load_db.engine.orchestration import load_dataset_frames, load_frames
    from load_db.engine.report import LoadReport, TableCounts
    from load_db.engine.runner import run_load, script_main
    from load_db.engine.tables import read_table
    from load_db.engine.upsert import upsert

# public name -> the engine module that defines it
_MODULE_OF = {
    "LoadError": "errors", "DatasetFrames": "frames", "load_dataset_frames": "orchestration",
    "load_frames": "orchestration", "LoadReport": "report", "TableCounts": "report",
    "run_load": "runner", "script_main": "runner", "read_table": "tables", "upsert": "upsert",
}

__all__ = ["DatasetFrames", "LoadError", "LoadReport", "TableCounts", "load_dataset_frames",
           "load_frames", "read_table", "run_load", "script_main", "upsert"]


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first asked for."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
