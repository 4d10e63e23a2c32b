"""The dataset contract, and finding every dataset package of load_db/ by scanning for it.

A dataset package `load_db/<DATASET>/` declares in its __init__.py:

- DESIGNATION: its name in the seed list (data/seed_files/datasets_list.xls), e.g. "OpenPain";
- DATA_FOLDER: its default data folder under data/, e.g. "openpain";
- read(source) -> DatasetFrames: reads every input file under `source` once;
- get_<dataset>_dx: its diagnosis mapping, which `read` applies to the labels it finds.

and optionally, in `load_db/<DATASET>/example.py`, write_example(out_dir): writes its example
data into out_dir (the dataset's own folder). Packages are found by scanning load_db's path; no
table lists them. A package without DESIGNATION (the engine, the adapters, the seed lists) is
not a dataset.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sqlalchemy.orm import Session

import load_db
from globals import DATA_DIR
from load_db.engine import DatasetFrames, LoadError, LoadReport, load_dataset_frames
from load_db.engine.runner import script_main

# Packages of load_db/ that are shared machinery, never datasets.
NOT_DATASETS = frozenset({"engine", "bids", "dicom", "seed"})
EXAMPLE_MODULE = "example"
TABLES = ("subjects", "visits", "images")


@dataclass(frozen=True)
class DatasetPackage:
    """One dataset package of load_db/, as its __init__.py declares it."""

    module: ModuleType

    @property
    def designation(self) -> str:
        return self.module.DESIGNATION

    @property
    def data_folder(self) -> str:
        return self.module.DATA_FOLDER

    def data_dir(self, root: Path = DATA_DIR) -> Path:
        """The dataset's default data folder: root/DATA_FOLDER."""
        return Path(root) / self.data_folder

    def read(self, source: Path) -> DatasetFrames:
        """Read every input file of the dataset under `source`, once."""
        return self.module.read(source)

    @property
    def write_example(self) -> Callable[[Path], list[Path]] | None:
        """The package's example-data writer (example.py's write_example), None without one."""
        name = f"{self.module.__name__}.{EXAMPLE_MODULE}"
        if importlib.util.find_spec(name) is None:
            return None
        return importlib.import_module(name).write_example

    def has_example_data(self, root: Path = DATA_DIR) -> bool:
        """Whether the package writes example data and it is present under root."""
        return self.write_example is not None and self.data_dir(root).is_dir()


def discover() -> dict[str, DatasetPackage]:
    """Every dataset package on load_db's path, by designation (sorted, case-insensitively)."""
    found = {}
    for info in pkgutil.iter_modules(load_db.__path__):
        if not info.ispkg or info.name in NOT_DATASETS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"load_db.{info.name}")
        if hasattr(module, "DESIGNATION"):
            found[module.DESIGNATION] = DatasetPackage(module)
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def find_dataset(name: str) -> DatasetPackage:
    """The dataset package whose designation is `name` in any case; LoadError when none is."""
    packages = discover()
    by_lower = {designation.lower(): package for designation, package in packages.items()}
    try:
        return by_lower[name.lower()]
    except KeyError:
        raise LoadError(f"no loader for dataset {name!r} "
                        f"(known: {', '.join(packages) or 'none'})") from None


def with_example_data(root: Path = DATA_DIR) -> list[DatasetPackage]:
    """The dataset packages whose example data is present under root (what `make run` loads)."""
    return [package for package in discover().values() if package.has_example_data(root)]


def dataset_loader(package: DatasetPackage, tables: Sequence[str] = TABLES
                   ) -> Callable[[Session, Path], LoadReport]:
    """A loader (for run_load) reading the dataset once and writing `tables` of it."""
    def load(session: Session, source: Path) -> LoadReport:
        return load_dataset_frames(session, package.designation, package.read(Path(source)),
                                   tables=tuple(tables))
    return load


def table_script(module_name: str, table: str, description: str | None = None) -> int:
    """The entry point of a load_<table>.py script of dataset package `module_name`: read the
    whole dataset once, write only `table`; return the exit code."""
    package = DatasetPackage(importlib.import_module(module_name))
    return script_main(f"{package.designation}.{table}", dataset_loader(package, (table,)),
                       package.data_dir(), dataset=package.designation, description=description)
