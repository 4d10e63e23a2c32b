"""The dataset contract, for every dataset package discovered under load_db/: declared in its
__init__.py, seeded, read, written as an example and loaded by `make run`'s path.

Nothing here names a dataset: a new package is covered by adding its folder and its seed-list
row. Exact values of each dataset's own example are checked in its own test file.
"""
import ast
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Condition, Dataset, Image, Subject, Visit
from app.storage import get_storage
from globals import DATA_DIR
from load_db.datasets import DatasetDeclaration, discover, find_dataset, with_example_data
from load_db.engine import DatasetFrames
from load_db.engine.labels import dataset_conditions
from load_db.engine.mapping import read_mapping
from tests.support.examples import count, flask_load

PACKAGES = discover()
WITH_WRITER = [name for name, package in PACKAGES.items() if package.write_example]
BUNDLED = [package.designation for package in with_example_data()]


pytestmark = pytest.mark.storage("local")


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    """A data root holding every writer's example, written once per module."""
    root = tmp_path_factory.mktemp("data")
    for name in WITH_WRITER:
        PACKAGES[name].write_example(PACKAGES[name].data_dir(root))
    return root


def table(frame: pd.DataFrame | None) -> pd.DataFrame:
    """A frame of DatasetFrames, empty when the dataset has no such table (None)."""
    return pd.DataFrame() if frame is None else frame


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("designation", PACKAGES)
def test_the_init_declares_the_dataset_and_its_modules_hold_the_logic(designation):
    package = PACKAGES[designation]
    declaration = package.declaration
    assert isinstance(declaration, DatasetDeclaration) and declaration.designation == designation
    assert callable(declaration.read)
    # The mapping is data: mapping.yaml beside the package's code, valid.
    assert declaration.mapping == Path(package.module.__file__).with_name("mapping.yaml")
    assert read_mapping(declaration.mapping).version
    assert declaration.data_folder and "/" not in declaration.data_folder
    assert find_dataset(designation.swapcase()) == package
    # __init__.py declares only: imports, constants and the declaration, no function or class.
    tree = ast.parse(Path(package.module.__file__).read_text())
    assert [type(node).__name__ for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)] == []
    for function in (declaration.read, declaration.write_example):
        if function is not None:
            assert function.__module__.startswith(f"{package.module.__name__}.")


@pytest.mark.parametrize("designation", PACKAGES)
def test_the_docstring_cites_the_public_documentation_it_follows(designation):
    """Each package says where its layout, columns and codes come from: a "Sources:" list in
    its docstring with at least one web address."""
    docstring = PACKAGES[designation].module.__doc__ or ""
    assert "\nSources:\n" in docstring
    sources = docstring.split("\nSources:\n", 1)[1]
    assert re.search(r"https?://[\w.-]+\.[a-z]{2,}/\S*", sources), sources


@pytest.mark.parametrize("designation", PACKAGES)
def test_a_dataset_package_imports_no_other_dataset_package(designation):
    """What two studies share lives in an adapter (load_db/bids, dicom, loni...), so that a
    dataset's folder can change or go without touching another's."""
    package = PACKAGES[designation]
    others = {other.module.__name__ for other in PACKAGES.values()} - {package.module.__name__}
    imported = set()
    for path in Path(package.module.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    assert sorted(name for name in imported
                  if any(name == other or name.startswith(other + ".") for other in others)) == []


@pytest.mark.parametrize("designation", WITH_WRITER)
def test_the_example_writer_is_reproducible_byte_for_byte(designation, examples, tmp_path):
    package = PACKAGES[designation]
    written = package.write_example(tmp_path / "again")
    again = files_of(tmp_path / "again")
    assert sorted(Path(path).relative_to(tmp_path / "again").as_posix() for path in written) \
        == sorted(again)
    assert again == files_of(package.data_dir(examples))


@pytest.mark.parametrize("designation", BUNDLED)
def test_the_bundled_example_is_what_its_writer_writes(designation, examples):
    package = PACKAGES[designation]
    assert files_of(package.data_dir()) == files_of(package.data_dir(examples))


@pytest.mark.parametrize("designation", WITH_WRITER)
def test_read_returns_the_one_shape_with_a_condition_per_label(designation, examples):
    package = PACKAGES[designation]
    folder = package.data_dir(examples)
    frames = package.read(folder)
    assert isinstance(frames, DatasetFrames) and len(table(frames.subjects)) > 0
    assert all(not path.startswith(f"{designation}/") and (folder / path).is_file()
               for path in table(frames.images).get("path", []))
    labels = set(table(frames.subjects).get("condition", [])).union(
        table(frames.visits).get("condition", [])) - {None}
    assert set(dataset_conditions(frames)) == labels


@pytest.mark.parametrize("designation", PACKAGES)
def test_flask_seed_adds_the_dataset_from_its_seed_list_row(app, seeded, designation):
    stored = seeded.scalar(select(Dataset).where(Dataset.designation == designation))
    assert stored is not None and stored.storage_prefix == designation


@pytest.mark.parametrize("designation", WITH_WRITER)
def test_make_run_loads_and_uploads_the_example(app, seeded, examples, designation):
    """`flask load` (twice: the second run changes nothing) then `flask upload` of the example:
    every row read is stored, every image path is a key of the uploaded folder."""
    package = PACKAGES[designation]
    folder = package.data_dir(examples)
    frames = package.read(folder)
    assert flask_load(app, designation, folder).exit_code == 0
    again = flask_load(app, designation, folder, "--json")
    assert again.exit_code == 0, again.output
    assert {table: (counts["inserted"], counts["updated"])
            for table, counts in json.loads(again.output)["tables"].items()
            if counts["inserted"] or counts["updated"]} == {}
    dataset_id = seeded.scalar(select(Dataset.id).where(Dataset.designation == designation))
    subjects = select(Subject.id).where(Subject.dataset_id == dataset_id)
    assert count(seeded, Subject, Subject.dataset_id == dataset_id) == len(table(frames.subjects))
    assert count(seeded, Visit, Visit.subject_id.in_(subjects)) == len(table(frames.visits))
    assert count(seeded, Image, Image.dataset_id == dataset_id) == len(table(frames.images))
    conditions = {designation for designation in dataset_conditions(frames).values()
                  if designation}
    assert set(seeded.scalars(select(Condition.designation)
                              .where(Condition.designation.in_(conditions)))) == conditions

    uploaded = app.test_cli_runner().invoke(args=["upload", designation, str(folder)])
    assert uploaded.exit_code == 0, uploaded.output
    with app.app_context():
        storage = get_storage()
        paths = seeded.scalars(select(Image.path).where(Image.dataset_id == dataset_id)).all()
        assert [path for path in paths if not storage.exists(path)] == []


def test_the_bundled_examples_are_in_data():
    assert set(BUNDLED) <= set(WITH_WRITER)
    assert all((DATA_DIR / PACKAGES[name].data_folder).is_dir() for name in BUNDLED)
