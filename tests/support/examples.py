"""Helpers of the dataset tests: seed, run `flask load` or a load_ script, copy an example."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Condition, Image, Subject, Visit
from globals import DATA_DIR, ROOT


def flask_load(app, designation: str, data_dir: Path | None = None, *options: str):
    """Run `flask load DESIGNATION [--data-dir DIR] [options]`; return the click result."""
    args = ["load", designation, *(["--data-dir", str(data_dir)] if data_dir else []), *options]
    return app.test_cli_runner().invoke(args=args)


def load_example(designation: str, data_dir: Path | None = None):
    """Run the load `flask load DESIGNATION` runs, on the app's session; return its report."""
    from app.extensions import db
    from load_db.datasets import dataset_loader, find_dataset
    from load_db.engine import run_load

    package = find_dataset(designation)
    return run_load(db.session, f"load {package.designation}", dataset_loader(package),
                    data_dir or package.data_dir(), dataset=package.designation)


def copy_example(tmp_path: Path, folder: str) -> Path:
    """A copy of data/<folder> that a test may break."""
    return Path(shutil.copytree(DATA_DIR / folder, tmp_path / folder))


def run_script(folder: str, script: str, database_url: str, cwd: Path, *args: str):
    """Run load_db/<folder>/<script> as a program from `cwd` on the test database."""
    env = {**os.environ, "FLASK_CONFIG": "testing", "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, str(ROOT / "load_db" / folder / script), *args],
                          cwd=cwd, env=env, capture_output=True, text=True)


def count(session: Session, model: type, *where) -> int:
    """Rows of `model` matching `where`."""
    return session.scalar(select(func.count()).select_from(model).where(*where))


def image_visits(session: Session, designation_prefix: str) -> dict[str, str | None]:
    """{image path: its visit's external_id or None} for images under a storage prefix."""
    rows = session.execute(select(Image.path, Visit.external_id)
                           .outerjoin(Visit, Image.visit_id == Visit.id)
                           .where(Image.path.startswith(designation_prefix)))
    return dict(rows.all())


def subject_conditions(session: Session, dataset_id: int) -> dict[str, str | None]:
    """{subject external_id: subject-level condition designation}."""
    rows = session.execute(select(Subject.external_id, Condition.designation)
                           .outerjoin(Condition, Subject.condition_id == Condition.id)
                           .where(Subject.dataset_id == dataset_id))
    return dict(rows.all())


def visit_conditions(session: Session) -> dict[str, str | None]:
    """{visit external_id: visit-level condition designation}."""
    query = (select(Visit.external_id, Condition.designation)
             .outerjoin(Condition, Visit.condition_id == Condition.id))
    return dict(session.execute(query).all())


def written(report) -> dict[str, int]:
    """{table: rows inserted or updated} of a LoadReport, for tables with any."""
    return {table: counts.written for table, counts in report.tables.items() if counts.written}


def image_types(session: Session, dataset_id: int) -> dict[str, int]:
    """{image type: number of images} of one dataset."""
    rows = session.execute(select(Image.type, func.count()).where(Image.dataset_id == dataset_id)
                           .group_by(Image.type))
    return {str(kind): number for kind, number in rows.all()}


# Header keywords whose values identify a person or place (DICOM PS3.15's confidentiality
# profile), and words of the keywords themselves, which must not reach the database either.
IDENTIFYING_KEYWORDS = (
    "PatientName", "PatientBirthDate", "ReferringPhysicianName", "PerformingPhysicianName",
    "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy", "RequestingPhysician", "OperatorsName",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "PatientAddress",
    "StationName")
KEYWORD_WORDS = ("patientname", "birthdate", "physician", "operator", "institution", "address")


def identifying_values(folder: Path, keywords: tuple[str, ...] = IDENTIFYING_KEYWORDS
                       ) -> set[str]:
    """Every identifying value of the DICOM headers under `folder` (and each part of a
    person's name); files ending .json, .md or .txt are not DICOM."""
    import pydicom

    values: set[str] = set()
    for file in folder.rglob("*"):
        if not file.is_file() or file.suffix in (".json", ".md", ".txt"):
            continue
        dataset = pydicom.dcmread(file, stop_before_pixels=True)
        for keyword in keywords:
            value = str(dataset.get(keyword, "") or "").strip()
            values |= {value, *value.split("^")} if value else set()
    return {value.strip() for value in values if value.strip()}


def _leaves(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def stored_texts() -> list[str]:
    """Every value of every row of every table, JSON documents taken apart (keys too)."""
    from app.extensions import db

    stored = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            stored.extend(leaf for cell in row for leaf in _leaves(cell))
    return stored


def assert_none_stored(secrets: set[str]) -> None:
    """No stored text equals or (for values of 6 characters or more) contains a secret, and
    none names an identifying keyword."""
    stored = stored_texts()
    assert stored
    for text in stored:
        lowered = text.lower()
        for secret in secrets:
            # Short values (USC, dicom, Test) would match inside unrelated words: equal only.
            assert lowered != secret.lower() and (len(secret) < 6 or
                                                  secret.lower() not in lowered), (text, secret)
        assert not any(word in lowered for word in KEYWORD_WORDS), text


def replace_in(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a text file by `new` (which must be there)."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def assert_broken_input_changes_nothing(app, designation: str, folder: str, file: str, old: str,
                                        new: str, where: str, tmp_path: Path) -> None:
    """Break one file of an example (old -> new): `flask load` exits 2 naming `where`, and
    every table keeps its row count."""
    from tests.support.apps import data_counts

    assert flask_load(app, designation).exit_code == 0
    before = data_counts()
    data_dir = copy_example(tmp_path, folder)
    replace_in(data_dir / file, old, new)
    result = flask_load(app, designation, data_dir)
    assert result.exit_code == 2, result.output
    assert where in result.output and "nothing was written" in result.output
    assert data_counts() == before


def assert_scripts_run_from_anywhere(folder: str, database_url: str, session: Session,
                                     cwd: Path, counts: tuple[int, int, int]) -> None:
    """Every load_ script of the dataset runs from `cwd`; then subjects, visits, images count."""
    for script in ("load_subject.py", "load_visit.py", "load_image.py"):
        result = run_script(folder, script, database_url, cwd)
        assert result.returncode == 0, result.stderr
    session.expire_all()
    assert (count(session, Subject), count(session, Visit), count(session, Image)) == counts


# A dataset package as a newcomer would add one, written by tests outside load_db/ and put on
# its path: nothing else names it. Its __init__.py declares, its modules hold the logic.
TOY_DESIGNATION, TOY_FOLDER = "ToyStudy", "toystudy"
TOY_PACKAGE = {
    "toystudy/__init__.py": f'''"""A toy study: one CSV of participants with a group.

Sources:
- the toy study's own description: https://example.org/toy-study
"""
from load_db.datasets import DatasetDeclaration
from load_db.toystudy.example import write_example
from load_db.toystudy.read import MAPPING, read_toystudy

DATASET = DatasetDeclaration(designation="{TOY_DESIGNATION}", data_folder="{TOY_FOLDER}",
                             read=read_toystudy, mapping=MAPPING,
                             write_example=write_example)
''',
    "toystudy/mapping.yaml": "conditions:\n  values: {hc: Healthy Control}\n",
    "toystudy/read.py": '''"""The toy study's reader; mapping.yaml maps its groups."""
from pathlib import Path

import pandas as pd

from load_db.engine import DatasetFrames, read_table
from load_db.engine.mapping import read_mapping

MAPPING = Path(__file__).with_name("mapping.yaml")


def read_toystudy(source):
    path = Path(source) / "participants.csv"
    table = read_table(path, required=("id", "group"), key="id")
    subjects = pd.DataFrame({"external_id": table["id"], "condition": table["group"],
                             "source_file": str(path), "source_row": range(2, 2 + len(table))})
    return DatasetFrames(subjects=subjects, mapping=read_mapping(MAPPING))
''',
    "toystudy/example.py": '''from pathlib import Path


def write_example(out_dir):
    path = Path(out_dir) / "participants.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id,group\\nt1,hc\\nt2,hc\\n")
    return [path]
''',
}


def load_examples(app) -> None:
    """Seed, then `flask load` every bundled example dataset (OASIS, OpenPain, HCP)."""
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    for designation in ("OASIS", "OpenPain", "HCP"):
        result = flask_load(app, designation)
        assert result.exit_code == 0, result.output


def assert_read_names_the_cell(tmp_path: Path, folder: str, read, file: str, old: str,
                               new: str, where: str) -> None:
    """Break one file of a copy of an example (old -> new): the dataset's `read` raises a
    LoadError naming `where` (file, row and column), with no database involved."""
    from load_db.engine import LoadError

    data_dir = copy_example(tmp_path, folder)
    replace_in(data_dir / file, old, new)
    try:
        read(data_dir)
    except LoadError as error:
        assert where in str(error), str(error)
    else:
        raise AssertionError(f"reading {folder} with {file} broken raised no LoadError")
