"""Fixtures of the loader tests: a plain session with no app, a new dataset package."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import load_db
from app import models  # noqa: F401  (registers every table on the metadata)
from app.extensions import db
from tests.support.apps import delete_all_rows
from tests.support.examples import TOY_FOLDER, TOY_PACKAGE
from tests.support.files import write_tree


@pytest.fixture(scope="module")
def plain_engine(database_url: str):
    """A SQLAlchemy engine on the module's database, its tables created, and no Flask app."""
    engine = create_engine(database_url)
    db.metadata.create_all(engine)
    yield engine
    db.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def plain_session(plain_engine) -> Iterator[Session]:
    """A plain SQLAlchemy session (no app); every row a test wrote is deleted afterwards."""
    with Session(plain_engine) as session:
        yield session
        delete_all_rows(session)


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new dataset package (tests.support.examples.TOY_PACKAGE) in a folder outside the
    project, put on load_db's package path; yields that folder."""
    folder = write_tree(tmp_path / "more_datasets", TOY_PACKAGE)
    monkeypatch.setattr(load_db, "__path__", [*load_db.__path__, str(folder)])
    yield folder
    for name in [name for name in sys.modules if name.startswith(f"load_db.{TOY_FOLDER}")]:
        del sys.modules[name]
