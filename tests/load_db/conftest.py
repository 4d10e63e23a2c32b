"""Fixtures of the loader tests: a seeded database."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session


@pytest.fixture
def seeded(app, session: Session) -> Session:
    """The session of a database holding the seed lists."""
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    return session
