"""Testing apps, storages and database checks shared by the test modules and fixtures."""
from __future__ import annotations

import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db
from app.storage import storage_from_config
from tests.support.servers import MotoServer

# ../shared/data, the real public test data (read in place, never copied); MBID_SHARED_DATA
# points elsewhere (e.g. from a git worktree that is not beside shared/).
SHARED_DATA = Path(os.environ.get("MBID_SHARED_DATA",
                                  Path(__file__).resolve().parents[3] / "shared" / "data"))


def make_app(database_url: str, **settings) -> Flask:
    """Build a testing app on `database_url`."""
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, **settings})


def table_counts(session: Session | None = None) -> dict[str, int]:
    """Row count of every table (in `session`, else the app's), to check that a failed
    operation changed nothing; parents before children. One statement, one round trip."""
    session = session if session is not None else db.session
    tables = db.metadata.sorted_tables
    counts = session.execute(select(*(select(func.count()).select_from(table).scalar_subquery()
                                      for table in tables))).one()
    return {table.name: count for table, count in zip(tables, counts, strict=True)}


def delete_all_rows(session: Session) -> None:
    """Roll back what `session` left pending, then delete every row of every table and commit
    (children first; only the tables holding rows, so that a test's clean-up costs a few
    statements rather than one per table)."""
    session.rollback()
    counts = table_counts(session)
    for table in reversed(db.metadata.sorted_tables):
        if counts[table.name]:
            session.execute(table.delete())
    session.commit()


def data_counts(session: Session | None = None) -> dict[str, int]:
    """table_counts without load_run, which records every load, failed ones included: what a
    rejected load must leave exactly as it was."""
    counts = table_counts(session)
    del counts["load_run"]
    return counts


def new_bucket(server: MotoServer) -> str:
    """Create an empty bucket with a fresh name on `server` and return its name."""
    name = f"mbid-{uuid.uuid4().hex[:16]}"
    storage_from_config(server.settings(name)).client.create_bucket(Bucket=name)
    return name


def app_with_tables(database_url: str, **settings) -> Iterator[Flask]:
    """Yield a testing app with `settings` whose database has every table (created from the
    models), under its app context; drop the tables afterwards."""
    application = make_app(database_url, **settings)
    with application.app_context():
        db.create_all()
        yield application
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def fetch_download_url(client, url: str, headers) -> bytes:
    """GET a download URL the API handed out: its own route through the test client, else
    (a presigned S3 URL) over HTTP."""
    if url.startswith("http://localhost/api/v1/"):
        response = client.get(url.removeprefix("http://localhost"), headers=headers)
        assert response.status_code == 200
        return response.get_data()
    with urllib.request.urlopen(url) as answer:
        return answer.read()
