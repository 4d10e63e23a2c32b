"""The dataset contract, and finding every dataset package of load_db/ by what it declares.

A dataset is one folder, `load_db/<DATASET>/`. Its __init__.py declares the dataset, and only
that: `DATASET = DatasetDeclaration(...)` naming

- designation: its name in the seed list (data/seed_files/datasets_list.xls), e.g. "OpenPain";
- data_folder: its default data folder under data/, e.g. "openpain";
- read(source) -> DatasetFrames: reads every input file under `source` once;
- mapping: its mapping file (mapping.yaml beside its code: labels onto master conditions,
  columns onto master measures; load_db/engine/mapping.py describes it), which `read` reads
  and `flask harmonise` re-applies to what is stored;
- write_example(out_dir) -> files written: writes its example data into out_dir (optional).

`read` may also take a keyword `strict`: with strict=True (`flask load --strict`) bad input
it would otherwise leave out and report stops the load instead. A diagnosis label outside the
mapping is the engine's business, not the reader's: the mapping says whether it stops the load
or is reported (load_db/engine/labels.py), and a strict load stops at it for every dataset.

The package's modules hold the logic (read.py, example.py, ...), and a study.yaml beside them
is its DICOM study configuration. Packages are found by scanning load_db's path: a package is a
dataset when its __init__.py declares one, so no list names the datasets or the packages that
are not (the engine, the adapters, QC, the seed lists).
"""
from __future__ import annotations

import importlib
import inspect
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

DECLARATION = "DATASET"  # the name a dataset package's __init__.py binds its declaration to
STUDY_FILE = "study.yaml"
TABLES = ("subjects", "visits", "images", "assessments")


@dataclass(frozen=True)
class DatasetDeclaration:
    """What a dataset package's __init__.py declares (as DATASET): its name, data folder,
    reader, mapping file and, optionally, its example-data writer."""

    designation: str
    data_folder: str
    read: Callable[..., DatasetFrames]
    mapping: Path
    write_example: Callable[[Path], list[Path]] | None = None


@dataclass(frozen=True)
class DatasetPackage:
    """One dataset package of load_db/: its module and the declaration in its __init__.py."""

    module: ModuleType

    @property
    def declaration(self) -> DatasetDeclaration:
        return getattr(self.module, DECLARATION)

    @property
    def designation(self) -> str:
        return self.declaration.designation

    @property
    def data_folder(self) -> str:
        return self.declaration.data_folder

    @property
    def mapping(self) -> Path:
        """The dataset's mapping file (labels -> conditions, columns -> measures)."""
        return self.declaration.mapping

    def data_dir(self, root: Path = DATA_DIR) -> Path:
        """The dataset's default data folder: root/<its data_folder>."""
        return Path(root) / self.data_folder

    @property
    def has_strict_mode(self) -> bool:
        """Whether the package's `read` takes `strict` (stop at bad input it would report)."""
        return "strict" in inspect.signature(self.declaration.read).parameters

    def read(self, source: Path, *, strict: bool = False) -> DatasetFrames:
        """Read every input file of the dataset under `source`, once; with `strict`, a reader
        that has a strict mode stops at the first bad input it would otherwise leave out and
        report (the labels outside the mapping are the engine's: see `dataset_loader`)."""
        if strict and self.has_strict_mode:
            return self.declaration.read(source, strict=True)
        return self.declaration.read(source)

    @property
    def write_example(self) -> Callable[[Path], list[Path]] | None:
        """The package's example-data writer, None without one."""
        return self.declaration.write_example

    @property
    def study_file(self) -> Path | None:
        """The package's study configuration (study.yaml beside its code), None without one:
        the DICOM tags, counts and naming convention `flask load-dicom` uses by default."""
        path = Path(self.module.__file__).parent / STUDY_FILE
        return path if path.is_file() else None

    def has_example_data(self, root: Path = DATA_DIR) -> bool:
        """Whether the package writes example data and it is present under root."""
        return self.write_example is not None and self.data_dir(root).is_dir()


def declares_dataset(module: ModuleType) -> bool:
    """Whether a package declares a dataset (binds DATASET to a DatasetDeclaration)."""
    return isinstance(getattr(module, DECLARATION, None), DatasetDeclaration)


def discover() -> dict[str, DatasetPackage]:
    """Every dataset package on load_db's path, by designation (sorted, case-insensitively).

    Each package of load_db is imported; those that declare a dataset are kept. Two packages
    declaring one designation (in any case) raise LoadError naming both.
    """
    found: dict[str, DatasetPackage] = {}
    for info in pkgutil.iter_modules(load_db.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"load_db.{info.name}")
        if not declares_dataset(module):
            continue
        package = DatasetPackage(module)
        same = [other for other in found.values()
                if other.designation.lower() == package.designation.lower()]
        if same:
            raise LoadError(f"dataset {package.designation!r} is declared twice: by "
                            f"{same[0].module.__name__} and {module.__name__}")
        found[package.designation] = package
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


def dataset_loader(package: DatasetPackage, tables: Sequence[str] = TABLES, *,
                   strict: bool = False) -> Callable[[Session, Path], LoadReport]:
    """A loader (for run_load) reading the dataset once and writing `tables` of it; with
    `strict`, the read is strict and a diagnosis label outside the mapping stops the load."""
    def load(session: Session, source: Path) -> LoadReport:
        frames = package.read(Path(source), strict=strict)
        return load_dataset_frames(session, package.designation, frames, tables=tuple(tables),
                                   strict=strict)
    return load


def table_script(module_name: str, table: str, description: str | None = None) -> int:
    """The entry point of a load_<table>.py script of dataset package `module_name`: read the
    whole dataset once, write only `table`; return the exit code."""
    package = DatasetPackage(importlib.import_module(module_name))
    return script_main(f"{package.designation}.{table}", dataset_loader(package, (table,)),
                       package.data_dir(), dataset=package.designation, description=description)
