"""Discovering dataset packages, finding one by name, and a new package end to end: seeded,
loaded by `make run`'s commands and covered by the contract tests with no other file changed."""
import csv
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

import load_db
from app.models import Dataset, LoadRun, SeriesTag, Subject
from globals import DATA_DIR, ROOT, SEED_DIR
from load_db.bids import LocalTree
from load_db.datasets import STUDY_FILE, declares_dataset, discover, find_dataset
from load_db.engine import LoadError, read_table
from load_db.OASIS import read as oasis_read
from load_db.openpain import read as openpain_read
from load_db.seed import find_seed_file
from tests.support.dicom import write_datman_tree
from tests.support.examples import TOY_DESIGNATION, TOY_FOLDER, count, flask_load
from tests.support.extra_datasets import EXTRA_DATASETS

SEED_LIST = "datasets_list"
CONTRACT_TESTS = Path(__file__).with_name("test_dataset_contract.py")


pytestmark = pytest.mark.storage("local")


def test_discovery_keeps_the_packages_that_declare_a_dataset():
    # load_db's other packages (engine, bids, dicom, qc, seed) declare none: no list names them.
    packages = {info.name for info in pkgutil.iter_modules(load_db.__path__) if info.ispkg}
    declaring = {name for name in packages
                 if declares_dataset(importlib.import_module(f"load_db.{name}"))}
    assert {"engine", "bids", "dicom", "qc", "seed"} <= packages - declaring
    assert sorted(package.module.__name__ for package in discover().values()) == sorted(
        f"load_db.{name}" for name in declaring)
    assert list(discover()) == sorted(discover(), key=str.lower)


@pytest.mark.parametrize("name", ["openpain", "OPENPAIN", "OpenPain"])
def test_a_designation_matches_in_any_case(name):
    assert find_dataset(name).designation == "OpenPain"


def test_an_unknown_designation_lists_the_known_ones():
    known = ", ".join(discover())
    with pytest.raises(LoadError, match=rf"no loader for dataset 'NoSuchStudy' \(known: {known}\)"):
        find_dataset("NoSuchStudy")


def test_two_packages_declaring_one_designation_are_refused(toy_package):
    twin = toy_package / "toytwin"
    shutil.copytree(toy_package / TOY_FOLDER, twin)
    for path in twin.glob("*.py"):
        path.write_text(path.read_text().replace(f"load_db.{TOY_FOLDER}.", "load_db.toytwin.")
                        .replace(f'"{TOY_DESIGNATION}"', f'"{TOY_DESIGNATION.upper()}"'))
    try:
        with pytest.raises(LoadError, match=rf"dataset '{TOY_DESIGNATION.upper()}' is declared "
                                            rf"twice: by load_db.{TOY_FOLDER} and load_db.toytwin"):
            discover()
    finally:
        for name in [name for name in sys.modules if name.startswith("load_db.toytwin")]:
            del sys.modules[name]


def seed_dir_with_row(tmp_path: Path, designation: str, description: str) -> Path:
    """A copy of the bundled seed lists whose datasets list has one more row (as a CSV)."""
    seed_dir = Path(shutil.copytree(SEED_DIR, tmp_path / "seed"))
    listed = find_seed_file(seed_dir, SEED_LIST)
    rows = read_table(listed, required=("designation", "description"), key="designation")
    listed.unlink()
    with (seed_dir / f"{SEED_LIST}.csv").open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["designation", "description"])
        writer.writerows(rows[["designation", "description"]].itertuples(index=False))
        writer.writerow([designation, description])
    return seed_dir


def snapshot(*folders: Path) -> dict[str, int]:
    """{file: modification time} of every file under folders (bytecode caches left out)."""
    return {str(path): path.stat().st_mtime_ns for folder in folders
            for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts}


def test_a_new_package_is_seeded_loaded_by_make_run_and_covered_by_the_contract_tests(
        app, session, toy_package, tmp_path, monkeypatch):
    """A throwaway dataset package in a temporary folder put on load_db's path (so nothing in
    the repository is written, even when the test is interrupted), with its example writer and
    one seed-list row, goes through `make run`'s commands and the parametrised contract tests."""
    before = snapshot(ROOT / "load_db", SEED_DIR)
    seed_dir = seed_dir_with_row(tmp_path, TOY_DESIGNATION, "a throwaway toy study")
    monkeypatch.setenv("SEED_DIR", str(seed_dir))   # flask seed's setting, as make run runs it
    data_root = tmp_path / "data"
    package = find_dataset(TOY_DESIGNATION.lower())
    assert package.write_example(package.data_dir(data_root)) == [
        data_root / TOY_FOLDER / "participants.csv"]

    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed"])
    assert seeded.exit_code == 0, seeded.output
    assert session.scalar(select(Dataset.storage_prefix)
                          .where(Dataset.designation == TOY_DESIGNATION)) == TOY_DESIGNATION
    loaded = runner.invoke(args=["load", "--all-examples", "--data-root", str(data_root)])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output == (f"{TOY_DESIGNATION}:\n"
                             "dataset_condition: 1 inserted, 0 updated, 0 unchanged\n"
                             "subject: 2 inserted, 0 updated, 0 unchanged\n")
    listed = runner.invoke(args=["dataset", "examples", "--data-root", str(data_root)])
    assert listed.output.splitlines() == [f"{TOY_DESIGNATION}\t{data_root / TOY_FOLDER}"]
    for line in listed.output.splitlines():
        uploaded = runner.invoke(args=["upload", *line.split("\t")])
        assert uploaded.exit_code == 0, uploaded.output
        assert uploaded.output.startswith("uploaded: 1, skipped (already present): 0")
    toy_id = session.scalar(select(Dataset.id).where(Dataset.designation == TOY_DESIGNATION))
    assert count(session, Subject, Subject.dataset_id == toy_id) == 2
    assert session.scalars(select(LoadRun.loader).order_by(LoadRun.id)).all()[-2:] == [
        "seed", f"load {TOY_DESIGNATION}"]

    assert snapshot(ROOT / "load_db", SEED_DIR) == before


def test_the_contract_tests_cover_a_new_package(toy_package, tmp_path):
    """The tests parametrised over the discovered packages run for the throwaway package too
    (on SQLite: one run suffices; the test above runs on both databases)."""
    before = snapshot(ROOT / "load_db", SEED_DIR)
    seed_dir = seed_dir_with_row(tmp_path, TOY_DESIGNATION, "a throwaway toy study")
    env = {**os.environ, EXTRA_DATASETS: str(toy_package), "SEED_DIR": str(seed_dir)}
    contract = subprocess.run(
        [sys.executable, "-m", "pytest", str(CONTRACT_TESTS), "-p", "tests.support.extra_datasets",
         "-p", "no:cacheprovider", "-q", "-rA", "-k", f"{TOY_DESIGNATION} and not postgresql"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert contract.returncode == 0, contract.stdout + contract.stderr
    passed = sorted(line.split("::")[1] for line in contract.stdout.splitlines()
                    if line.startswith("PASSED "))
    assert passed == [
        f"test_a_dataset_package_imports_no_other_dataset_package[{TOY_DESIGNATION}]",
        f"test_flask_seed_adds_the_dataset_from_its_seed_list_row[sqlite-{TOY_DESIGNATION}]",
        f"test_make_run_loads_and_uploads_the_example[sqlite-{TOY_DESIGNATION}]",
        f"test_read_returns_the_one_shape_with_a_condition_per_label[{TOY_DESIGNATION}]",
        f"test_the_docstring_cites_the_public_documentation_it_follows[{TOY_DESIGNATION}]",
        f"test_the_example_writer_is_reproducible_byte_for_byte[{TOY_DESIGNATION}]",
        f"test_the_init_declares_the_dataset_and_its_modules_hold_the_logic[{TOY_DESIGNATION}]",
    ]
    assert snapshot(ROOT / "load_db", SEED_DIR) == before


def test_flask_load_openpain_reads_the_bids_tree_once(app, seeded, monkeypatch):
    reads: Counter[str] = Counter()
    walks = []
    read_bids, read_text, files = openpain_read.read_bids, LocalTree.read_text, LocalTree.files

    def counted_read_bids(*args, **kwargs):
        reads["read_bids"] += 1
        return read_bids(*args, **kwargs)

    def counted_read_text(tree, path):
        reads[path] += 1
        return read_text(tree, path)

    def counted_files(tree):
        walks.append(tree.root)
        return files(tree)

    monkeypatch.setattr(openpain_read, "read_bids", counted_read_bids)
    monkeypatch.setattr(LocalTree, "read_text", counted_read_text)
    monkeypatch.setattr(LocalTree, "files", counted_files)
    result = flask_load(app, "OpenPain")
    assert result.exit_code == 0, result.output
    assert reads.pop("read_bids") == 1
    assert walks == [DATA_DIR / "openpain"]
    assert reads["participants.tsv"] == 1 and set(reads.values()) == {1}
    # participants.tsv and .json, 12 sessions.tsv, 2 top-level sidecars, sub-12's 4 sidecars
    assert len(reads) == 2 + 12 + 2 + 4


def test_flask_load_oasis_reads_its_clinical_csv_once(app, seeded, monkeypatch):
    reads: Counter[str] = Counter()
    original = oasis_read.read_table

    def counted(path, *args, **kwargs):
        reads[Path(path).name] += 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(oasis_read, "read_table", counted)
    result = flask_load(app, "OASIS")
    assert result.exit_code == 0, result.output
    assert reads == {"OASIS3_clinical_data.csv": 1, "OASIS3_subjects.csv": 1}


def test_flask_load_dicom_uses_the_study_yaml_beside_the_package(app, seeded, toy_package,
                                                                 tmp_path):
    root = write_datman_tree(tmp_path / "spins")
    (toy_package / TOY_FOLDER / STUDY_FILE).write_text((tmp_path / "study.yaml").read_text())
    assert find_dataset(TOY_DESIGNATION).study_file == toy_package / TOY_FOLDER / STUDY_FILE
    result = app.test_cli_runner().invoke(args=[
        "load-dicom", str(root), "--dataset", TOY_DESIGNATION, "--register", "--workers", "1"])
    assert result.exit_code == 0, result.output
    tags = seeded.scalars(select(SeriesTag.tag).order_by(SeriesTag.path)).all()
    assert tags[:4] == ["LOC", "T1", "T1", "DTI"]
    assert seeded.scalar(select(func.count()).select_from(Subject)) == 2
