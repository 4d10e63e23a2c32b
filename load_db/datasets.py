"""The dataset folders of load_db/ and data/, and running one dataset's load_ scripts in order.

The seed list names datasets by designation ("OpenPain"); their code and data live in folders
whose names came from the original project ("openpain"). The table below says which is which,
instead of guessing from the spelling.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from sqlalchemy.orm import Session

from globals import DATA_DIR
from load_db.engine import LoadError, LoadReport

# designation (data/seed_files/datasets_list.xls) -> folder under load_db/ and under data/
FOLDERS = {"OASIS": "OASIS", "OpenPain": "openpain", "HCP": "HCP"}
# The load_ scripts of a dataset folder, in the order they run: subjects first, because visits
# and images refer to them. A folder has the ones its dataset needs.
STEPS = ("load_subject", "load_visit", "load_image")


def folder_of(designation: str) -> str:
    """Return the folder name of a dataset; LoadError when it has no loader."""
    try:
        return FOLDERS[designation]
    except KeyError:
        raise LoadError(f"no loader for dataset {designation!r} "
                        f"(known: {', '.join(sorted(FOLDERS))})") from None


def data_dir_of(designation: str, root: Path = DATA_DIR) -> Path:
    """Return the default metadata folder of a dataset: root/<folder>."""
    return Path(root) / folder_of(designation)


def steps_of(designation: str) -> list[ModuleType]:
    """Return the dataset's load_ modules present in its folder, in STEPS order."""
    package = f"load_db.{folder_of(designation)}"
    return [importlib.import_module(f"{package}.{step}") for step in STEPS
            if importlib.util.find_spec(f"{package}.{step}") is not None]


def dataset_loader(designation: str) -> Callable[[Session, Path], LoadReport]:
    """Return a loader running every load_ script of a dataset, in order, in one transaction."""
    steps = steps_of(designation)

    def load(session: Session, data_dir: Path) -> LoadReport:
        report = LoadReport()
        for step in steps:
            report.merge(step.load(session, Path(data_dir)))
        return report
    return load
