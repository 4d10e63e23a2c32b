"""The engine, the adapters, the datasets and load_file work without Flask: nothing of theirs
imports it, and a dataset loads through the shared session entry (load_db/engine/session.py)
in a process where no Flask module is ever loaded."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app.models import Dataset, Image, LoadRun, LoadStatus, Subject, Visit
from app.models.base import Base
from globals import ROOT, SEED_DIR
from load_db.engine import run_load
from load_db.engine.session import configured, engine_from_settings
from load_db.seed import load_dataset
from load_file import upload

# Modules a library layer must not load: the web framework and the app's Flask extensions.
WEB_MODULES = ("flask", "flask_sqlalchemy", "flask_smorest", "flask_migrate", "werkzeug",
               "app.extensions")
LIBRARY_PACKAGES = ("load_db", "load_file")

# Run in a fresh interpreter: import the named packages, then every module of load_db/ and
# load_file/, and report which web modules each step loaded.
IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
WEB = {web!r}

def web_loaded():
    return sorted(name for name in sys.modules
                  if any(name == web or name.startswith(web + ".") for web in WEB))

import load_db.engine, load_db.bids, load_db.dicom, load_file
named = web_loaded()
import app, app.models
models = web_loaded()
modules = []
for package in ("load_db", "load_file"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(info.name)
        modules.append(info.name)
print(json.dumps({{"named": named, "models": models, "all": web_loaded(), "modules": modules}}))
"""

# Seed the datasets and conditions, and load OASIS through the session entry, in a fresh
# interpreter.
LOAD_OASIS = """
import json, sys
from globals import SEED_DIR
from load_db.datasets import dataset_loader, find_dataset
from load_db.engine import run_load
from load_db.engine.session import configured
from load_db.seed import load_condition, load_dataset

with configured() as resources:
    run_load(resources.session, "seed.dataset", load_dataset.load, SEED_DIR)
    run_load(resources.session, "seed.condition", load_condition.load, SEED_DIR)
    package = find_dataset("OASIS")
    report = run_load(resources.session, "load OASIS", dataset_loader(package),
                      package.data_dir(), dataset="OASIS")
print(json.dumps({"written": {table: counts.written for table, counts in report.tables.items()},
                  "flask": sorted(name for name in sys.modules if name.startswith("flask"))}))
"""


def run_python(program: str, cwd: Path, **environ: str) -> str:
    """Run `program` in a new interpreter (from `cwd`, with `environ` added); its stdout."""
    result = subprocess.run([sys.executable, "-c", program], cwd=cwd, capture_output=True,
                            text=True, env={**os.environ, **environ}, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_libraries_and_the_models_load_no_flask(tmp_path):
    report = json.loads(run_python(IMPORT_EVERYTHING.format(web=WEB_MODULES), tmp_path))
    assert report["named"] == []
    assert report["models"] == []
    assert report["all"] == []
    # The walk did reach the scripts, the adapters and the shared entry.
    assert {"load_db.OASIS.load_subject", "load_db.dicom_load", "load_db.bids.load",
            "load_db.engine.session", "load_file.upload"} <= set(report["modules"])


def imports_of(path: Path) -> set[str]:
    """Every module name `path` imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_library_source_imports_flask_even_lazily():
    offending = {}
    for package in LIBRARY_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            web = sorted(name for name in imports_of(path)
                         if any(name == w or name.startswith(w + ".") for w in WEB_MODULES))
            if web:
                offending[str(path.relative_to(ROOT))] = web
    assert offending == {}


def test_imports_of_sees_function_level_and_from_imports(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("import os\ndef f():\n    from app.extensions import db\n"
                      "    from flask import g\n")
    assert imports_of(source) == {"os", "app.extensions", "app.extensions.db", "flask",
                                  "flask.g"}


@pytest.fixture
def empty_tables(database_url: str):
    """The module's database with every table created from the models (no app), emptied after."""
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


def test_a_dataset_loads_through_the_session_entry_without_flask(empty_tables, database_url,
                                                                  tmp_path):
    report = json.loads(run_python(LOAD_OASIS, tmp_path, FLASK_CONFIG="testing",
                                   DATABASE_URL=database_url))
    assert report["flask"] == []
    assert report["written"] == {"dataset_condition": 15, "subject": 14, "visit": 24,
                                 "scanner": 3, "image": 23}
    with Session(empty_tables) as session:
        counts = [session.scalar(select(func.count()).select_from(model))
                  for model in (Subject, Visit, Image)]
        datasets = set(session.scalars(select(Dataset.designation).join(Subject.dataset)))
        runs = session.execute(select(LoadRun.loader, LoadRun.status).order_by(LoadRun.id))
        assert counts == [14, 24, 23]
        assert datasets == {"OASIS"}
        assert list(runs) == [("seed.dataset", LoadStatus.SUCCEEDED),
                              ("seed.condition", LoadStatus.SUCCEEDED),
                              ("load OASIS", LoadStatus.SUCCEEDED)]


def test_a_load_script_runs_over_the_session_entry(empty_tables, database_url, tmp_path):
    with Session(empty_tables) as session:  # the seed scripts have their own test (test_seed)
        run_load(session, "seed.dataset", load_dataset.load, SEED_DIR)
    result = subprocess.run([sys.executable, str(ROOT / "load_db" / "OASIS" / "load_subject.py")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "FLASK_CONFIG": "testing",
                                 "DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "subject" in result.stdout
    with Session(empty_tables) as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 14
        assert session.scalar(select(func.count()).select_from(Visit)) == 0


def test_configured_opens_the_settings_database_and_storage(tmp_path):
    database = tmp_path / "deep" / "folder" / "mbid.db"
    overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                 "STORAGE_BACKEND": "local", "LOCAL_STORAGE_ROOT": str(tmp_path / "objects")}
    with configured("testing", overrides) as resources:
        assert resources.session.scalar(text("SELECT 1")) == 1
        resources.storage.put("a/b.txt", b"hello")
        assert resources.settings["CONFIG_NAME"] == "testing"
    assert database.is_file()  # its folder was created, as create_app creates it
    assert (tmp_path / "objects" / "a" / "b.txt").read_bytes() == b"hello"


def test_an_in_memory_database_is_one_database_for_every_connection():
    engine = engine_from_settings({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert isinstance(engine.pool, StaticPool)
    Base.metadata.create_all(engine)
    with Session(engine) as first, Session(engine) as second:
        first.add(Dataset(designation="X", storage_prefix="X"))
        first.commit()
        assert second.scalar(select(Dataset.designation)) == "X"
    engine.dispose()


def test_no_database_configured_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no database configured: set DATABASE_URL"):
        engine_from_settings({"SQLALCHEMY_DATABASE_URI": ""})


def test_the_upload_script_reads_the_prefix_and_stores_through_the_session_entry(
        empty_tables, database_url, tmp_path, monkeypatch):
    with Session(empty_tables) as session:
        session.add(Dataset(designation="UP", storage_prefix="up/prefix"))
        session.commit()
    source = tmp_path / "source"
    (source / "sub-01" / "anat").mkdir(parents=True)
    (source / "sub-01" / "anat" / "sub-01_T1w.nii").write_bytes(b"voxels")
    for name, value in {"FLASK_CONFIG": "testing", "DATABASE_URL": database_url,
                        "STORAGE_BACKEND": "local",
                        "LOCAL_STORAGE_ROOT": str(tmp_path / "objects")}.items():
        monkeypatch.setenv(name, value)

    assert upload.main(["UP", str(source)]) == 0
    assert upload.main(["NOPE", str(source)]) == upload.EXIT_BAD_INPUT

    stored = tmp_path / "objects" / "up" / "prefix" / "sub-01" / "anat" / "sub-01_T1w.nii"
    assert stored.read_bytes() == b"voxels"
