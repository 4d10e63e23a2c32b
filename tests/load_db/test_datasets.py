"""The dataset contract: packages are discovered, read once, and loaded by `flask load`."""
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

import load_db.OASIS
import load_db.openpain
from app.models import Dataset, LoadRun, Subject
from globals import DATA_DIR
from load_db.bids import LocalTree
from load_db.datasets import discover, find_dataset, with_example_data
from load_db.engine import DatasetFrames, LoadError
from load_db.examples import write_examples
from tests.support.examples import TOY_DESIGNATION, TOY_FOLDER, count, flask_load
from tests.support.factories import make_dataset

EXAMPLE_DATASETS = ["HCP", "OASIS", "OpenPain"]


def test_every_dataset_package_is_discovered_with_its_contract():
    packages = discover()
    assert list(packages) == EXAMPLE_DATASETS
    assert {name: p.data_folder for name, p in packages.items()} == {
        "HCP": "HCP", "OASIS": "OASIS", "OpenPain": "openpain"}
    for package in packages.values():
        folder = package.module.__name__.rsplit(".", 1)[-1].lower()
        assert callable(package.module.read) and package.write_example is not None
        assert callable(getattr(package.module, f"get_{folder}_dx"))
        assert package.has_example_data() and package.data_dir() == DATA_DIR / package.data_folder
    assert [p.designation for p in with_example_data()] == EXAMPLE_DATASETS


@pytest.mark.parametrize("name", ["openpain", "OPENPAIN", "OpenPain"])
def test_a_designation_matches_in_any_case(name):
    assert find_dataset(name).designation == "OpenPain"


def test_an_unknown_designation_lists_the_known_ones():
    with pytest.raises(LoadError, match=r"no loader for dataset 'ADNI' \(known: HCP, OASIS, "
                                        r"OpenPain\)"):
        find_dataset("ADNI")


@pytest.mark.parametrize("designation", EXAMPLE_DATASETS)
def test_read_returns_the_one_shape_with_relative_image_paths(designation):
    package = find_dataset(designation)
    frames = package.read(package.data_dir())
    assert isinstance(frames, DatasetFrames)
    assert all(not path.startswith(f"{designation}/") and (package.data_dir() / path).is_file()
               for path in frames.images["path"])
    assert set(frames.conditions) == set(frames.subjects.get("condition", [])).union(
        frames.visits.get("condition", [])) - {None}


def test_a_new_package_is_found_by_flask_load_and_by_make_run(app, seeded, toy_package,
                                                              tmp_path):
    session = seeded
    assert find_dataset(TOY_DESIGNATION.lower()).data_folder == TOY_FOLDER
    make_dataset(session, designation=TOY_DESIGNATION, storage_prefix=TOY_DESIGNATION)
    session.commit()
    data_root = tmp_path / "data"
    written = write_examples(data_root)   # python -m load_db.examples finds its writer too
    assert data_root / TOY_FOLDER / "participants.csv" in written

    result = flask_load(app, TOY_DESIGNATION.upper(), data_root / TOY_FOLDER)
    assert result.exit_code == 0, result.output
    assert result.output == ("dataset_condition: 1 inserted, 0 updated, 0 unchanged\n"
                             "subject: 2 inserted, 0 updated, 0 unchanged\n")

    # make run: `flask load --all-examples`, then `flask upload` of each `flask dataset examples`
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["dataset", "examples", "--data-root", str(data_root)])
    assert listed.output.splitlines() == [
        f"{name}\t{data_root / folder}" for name, folder in
        (("HCP", "HCP"), ("OASIS", "OASIS"), ("OpenPain", "openpain"),
         (TOY_DESIGNATION, TOY_FOLDER))]
    loaded = runner.invoke(args=["load", "--all-examples", "--data-root", str(data_root)])
    assert loaded.exit_code == 0, loaded.output
    assert f"{TOY_DESIGNATION}:\ndataset_condition: 0 inserted, 0 updated, 1 unchanged\n" \
           "subject: 0 inserted, 0 updated, 2 unchanged" in loaded.output
    toy_id = session.scalar(select(Dataset.id).where(Dataset.designation == TOY_DESIGNATION))
    assert count(session, Subject, Subject.dataset_id == toy_id) == 2
    assert [loader for (loader,) in session.execute(select(LoadRun.loader).order_by(LoadRun.id))
            ][-5:] == [f"load {TOY_DESIGNATION}", "load HCP", "load OASIS", "load OpenPain",
                       f"load {TOY_DESIGNATION}"]


def test_flask_load_openpain_reads_the_bids_tree_once(app, seeded, monkeypatch):
    reads: Counter[str] = Counter()
    walks = []
    read_bids, read_text, files = load_db.openpain.read_bids, LocalTree.read_text, LocalTree.files

    def counted_read_bids(*args, **kwargs):
        reads["read_bids"] += 1
        return read_bids(*args, **kwargs)

    def counted_read_text(tree, path):
        reads[path] += 1
        return read_text(tree, path)

    def counted_files(tree):
        walks.append(tree.root)
        return files(tree)

    monkeypatch.setattr(load_db.openpain, "read_bids", counted_read_bids)
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
    read_table = load_db.OASIS.read_table

    def counted(path, *args, **kwargs):
        reads[Path(path).name] += 1
        return read_table(path, *args, **kwargs)

    monkeypatch.setattr(load_db.OASIS, "read_table", counted)
    result = flask_load(app, "OASIS")
    assert result.exit_code == 0, result.output
    assert reads == {"OASIS3_clinical_data.csv": 1, "OASIS3_subjects.csv": 1}
