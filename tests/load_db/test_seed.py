"""Seed loaders: the master lists, idempotent, and refusing broken files whole."""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import xlwt
from sqlalchemy import func, select

from app.extensions import db
from app.models import Condition, Dataset, FileType, Measure
from globals import ROOT, SEED_DIR
from load_db.seed import find_seed_file, read_master_list
from tests.support.apps import data_counts

# Rows of the conditions, file types and measures lists, read here with the csv module.
SEED_ROWS = tuple(len(list(csv.DictReader((SEED_DIR / f"{name}_list.csv").open())))
                  for name in ("conditions", "file_types", "measures"))

HEADER = ("designation", "description")


def write_seed(path: Path, rows, header=HEADER) -> Path:
    """Write a seed list as .xls, .xlsx or .csv, chosen by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = [list(header)] + [list(row) for row in rows]
    if path.suffix == ".xls":
        book = xlwt.Workbook()
        sheet = book.add_sheet("list")
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        book.save(str(path))
    elif path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        for row in table:
            book.active.append(row)
        book.save(path)
    else:
        path.write_text("\n".join(",".join(row) for row in table) + "\n")
    return path


def seed_dir_with(tmp_path: Path, **replacements: tuple[str, list]) -> Path:
    """A copy of the bundled seed lists with some files replaced by (filename, rows)."""
    directory = tmp_path / "seed"
    shutil.copytree(SEED_DIR, directory)
    for stem, (filename, rows) in replacements.items():
        for old in directory.glob(f"{stem}.*"):
            old.unlink()
        header = rows.pop(0) if rows and rows[0] == "HEADER" else HEADER
        if header == "HEADER":
            header = HEADER
        write_seed(directory / filename, rows, header)
    return directory


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_loads_the_master_lists_and_running_twice_adds_nothing(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    counts = (count(session, Dataset), count(session, Condition), count(session, FileType),
              count(session, Measure))
    listed = read_master_list(find_seed_file(SEED_DIR, "datasets_list"), Dataset)
    assert counts == (len(listed), *SEED_ROWS)
    designations = set(session.scalars(select(Dataset.designation)))
    assert designations == {row["designation"] for row in listed}
    # every dataset package has its row (tests/load_db/test_dataset_contract.py per package),
    # and so have datasets still without one
    assert {"OASIS", "ADNI", "HCP", "UK Biobank", "OpenPain", "OMI-DB"} <= designations
    assert session.scalar(select(Dataset.storage_prefix).where(Dataset.designation == "OASIS")) \
        == "OASIS"

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert (count(session, Dataset), count(session, Condition), count(session, FileType),
            count(session, Measure)) == counts


def test_the_seed_dir_setting_points_a_plain_flask_seed_elsewhere(app, session, tmp_path,
                                                                  monkeypatch):
    seed_dir = seed_dir_with(tmp_path, datasets_list=("datasets_list.csv", [["NEW", "a study"]]))
    monkeypatch.setenv("SEED_DIR", str(seed_dir))
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert session.scalars(select(Dataset.designation)).all() == ["NEW"]


@pytest.mark.parametrize("suffix", [".xls", ".xlsx", ".csv"])
def test_seed_reads_each_spreadsheet_format(app, session, tmp_path, suffix):
    rows = [["Healthy Control", "no diagnosis"], ["Chronic Pain", "pain > 12 weeks"]]
    seed_dir = seed_dir_with(tmp_path, conditions_list=(f"conditions_list{suffix}", rows))
    result = app.test_cli_runner().invoke(args=["seed", "--seed-dir", str(seed_dir)])
    assert result.exit_code == 0, result.output
    stored = dict(session.execute(select(Condition.designation, Condition.description)).all())
    assert stored == {"Healthy Control": "no diagnosis", "Chronic Pain": "pain > 12 weeks"}


def test_reseeding_updates_changed_descriptions(app, session, tmp_path):
    runner = app.test_cli_runner()
    seed_dir = seed_dir_with(tmp_path, file_types_list=("file_types_list.csv", [["mask", "old"]]))
    assert runner.invoke(args=["seed", "--seed-dir", str(seed_dir)]).exit_code == 0
    seed_dir = seed_dir_with(tmp_path / "2",
                             file_types_list=("file_types_list.csv", [["mask", "new"]]))
    from load_db.engine import run_load
    from load_db.seed import load_file_type

    report = run_load(db.session, "seed.file_type", load_file_type.load, seed_dir)
    assert vars(report.counts("file_type")) == {"inserted": 0, "updated": 1, "unchanged": 0}
    assert session.scalar(select(FileType.description)) == "new"


@pytest.mark.parametrize(("stem", "filename", "rows", "where"), [
    ("conditions_list", "conditions_list.csv", ["HEADER", ("name", "description"), ("A", "a")],
     "conditions_list.csv, row 1, column 'designation'"),
    ("conditions_list", "conditions_list.xlsx", [("A", "a"), ("", "nameless"), ("B", "b")],
     "conditions_list.xlsx, row 3, column 'designation'"),
    ("file_types_list", "file_types_list.xls", [("A", "a"), ("B", "b"), ("A", "again")],
     "file_types_list.xls, row 4, column 'designation'"),
    ("conditions_list", "conditions_list.csv", [("A", "a"), ("C" * 129, "too long")],
     "conditions_list.csv, row 3, column 'designation': 129 characters, more than the 128"),
    ("conditions_list", "conditions_list.csv", [("A\0B", "NUL")],
     "conditions_list.csv, row 2, column 'designation': NUL character"),
])
def test_broken_seed_file_names_file_row_and_column_and_changes_nothing(
        app, session, tmp_path, stem, filename, rows, where):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed"]).exit_code == 0
    before = data_counts()

    rows = list(rows)
    if rows[0] == "HEADER":
        rows.pop(0)
        header = rows.pop(0)
        seed_dir = tmp_path / "seed"
        shutil.copytree(SEED_DIR, seed_dir)
        for old in seed_dir.glob(f"{stem}.*"):
            old.unlink()
        write_seed(seed_dir / filename, rows, header)
    else:
        seed_dir = seed_dir_with(tmp_path, **{stem: (filename, rows)})
    # The datasets list in this folder changes too: its update must be rolled back as well.
    for old in seed_dir.glob("datasets_list.*"):
        old.unlink()
    write_seed(seed_dir / "datasets_list.csv", [("NEW", "would be inserted")])

    result = runner.invoke(args=["seed", "--seed-dir", str(seed_dir)])
    assert result.exit_code == 2
    assert where in result.output
    assert "nothing was written" in result.output
    assert data_counts() == before
    assert session.scalar(select(Dataset).where(Dataset.designation == "NEW")) is None


def test_dry_run_reports_and_writes_nothing(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert count(session, Dataset) == 0


def test_seed_scripts_run_from_any_directory(database_url, app, session, tmp_path):
    env = {**os.environ, "FLASK_CONFIG": "testing", "DATABASE_URL": database_url}
    for script in ("load_dataset.py", "load_condition.py", "load_file_type.py", "load_measure.py"):
        result = subprocess.run([sys.executable, str(ROOT / "load_db" / "seed" / script)],
                                cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    session.expire_all()
    counts = (count(session, Dataset), count(session, Condition), count(session, FileType),
              count(session, Measure))
    assert counts == (13, *SEED_ROWS)

    broken = write_seed(tmp_path / "bad" / "datasets_list.csv", [("X", "x"), ("X", "y")])
    result = subprocess.run([sys.executable, str(ROOT / "load_db" / "seed" / "load_dataset.py"),
                             "--data-dir", str(broken.parent)],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "datasets_list.csv, row 3, column 'designation': duplicate value 'X'" in result.stderr
