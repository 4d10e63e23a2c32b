"""Fixtures of the documentation tests: what `make run` serves, on SQLite, over HTTP."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.access.auth import create_api_key
from app.extensions import db
from app.models import Scope
from tests.support.apps import app_with_tables
from tests.support.live_api import LiveApi


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The API as `make run` leaves it (seeded, every example dataset loaded and uploaded to a
    local store), on a SQLite file that the examples' `flask` commands open too; its `token`
    has every scope. SQLite only: the examples show the API, not the database."""
    folder = tmp_path_factory.mktemp("docs")
    database_url = f"sqlite:///{folder / 'mbid.db'}"
    storage_root = folder / "storage"
    settings = {"STORAGE_BACKEND": "local", "LOCAL_STORAGE_ROOT": str(storage_root)}
    with pytest.MonkeyPatch.context() as patch:
        # The examples' pseudonyms use a key of their own, never instance/pseudonym-secret.
        patch.setenv("MBID_PSEUDONYM_SECRET", "docs-examples-secret")
        for app in app_with_tables(database_url, **settings):
            server = LiveApi(app)
            app.config["PUBLIC_BASE_URL"] = server.base_url
            _run_like_make_run(app)
            _, server.token = create_api_key("docs", scopes=list(Scope))
            db.session.commit()
            db.session.remove()
            server.database_url, server.storage_root = database_url, storage_root
            server.start()
            yield server
            server.stop()


def _run_like_make_run(app) -> None:
    """What `make run` does before serving: seed, load every example, upload each one."""
    cli = app.test_cli_runner()
    for args in (["seed"], ["load", "--all-examples"]):
        result = cli.invoke(args=args)
        assert result.exit_code == 0, result.output
    examples = cli.invoke(args=["dataset", "examples"])
    assert examples.exit_code == 0, examples.output
    for line in examples.output.splitlines():
        designation, folder = line.split("\t")
        assert Path(folder).is_dir(), folder
        result = cli.invoke(args=["upload", designation, folder])
        assert result.exit_code == 0, result.output
