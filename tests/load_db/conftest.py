"""Fixtures of the loader tests: a seeded database, and a plain session with no app."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app import models  # noqa: F401  (registers every table on the metadata)
from app.extensions import db


@pytest.fixture
def seeded(app, session: Session) -> Session:
    """The session of a database holding the seed lists."""
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return session


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
        session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            session.execute(table.delete())
        session.commit()
