"""The one entry that builds a database session (and the object storage) from the configuration,
without Flask: the load_<table>.py scripts, `python load_file/upload.py`, a notebook or a worker
open one with

    with configured() as resources:
        run_load(resources.session, ...)

The settings are those create_app reads (config.load_settings: config/<name>.py and the
environment), so a script and the `flask` commands use the same database and storage. The Flask
commands keep using the app's own session (app.extensions.db).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app import configure_logging, create_sqlite_folder
from app.storage import Storage, storage_from_config
from config import load_settings
from globals import INSTANCE_DIR


def engine_from_settings(settings: Mapping[str, Any]) -> Engine:
    """A SQLAlchemy engine on settings["SQLALCHEMY_DATABASE_URI"], with
    SQLALCHEMY_ENGINE_OPTIONS, opened as Flask-SQLAlchemy opens it for the app."""
    uri = settings.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        raise RuntimeError("no database configured: set DATABASE_URL or SQLALCHEMY_DATABASE_URI")
    url = make_url(uri)
    options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            # One connection for the whole process, or each checkout would see a new database.
            options.setdefault("poolclass", StaticPool)
            options.setdefault("connect_args", {"check_same_thread": False})
        elif not url.database.startswith("file:"):
            # A relative file is under instance/, where Flask-SQLAlchemy puts it for the app.
            url = url.set(database=str(INSTANCE_DIR / url.database))
            create_sqlite_folder(url.render_as_string(hide_password=False))
    return create_engine(url, **options)


@dataclass
class Resources:
    """What a script works with: the settings, a session, and the storage (built on first use,
    so that a load that never touches storage needs no storage settings)."""

    settings: Mapping[str, Any]
    session: Session

    @cached_property
    def storage(self) -> Storage:
        """The object storage the settings choose (STORAGE_BACKEND and its settings)."""
        return storage_from_config(self.settings)


@contextmanager
def configured(config_name: str | None = None,
               overrides: Mapping[str, Any] | None = None) -> Iterator[Resources]:
    """Open a session (and storage) from configuration `config_name` (default: $FLASK_CONFIG,
    else globals.ENVIRONMENT) with `overrides` applied; close the session and its engine after.

    The session never commits by itself: the caller (run_load, an upload) owns the transaction.
    """
    settings = {**load_settings(config_name), **(overrides or {})}
    configure_logging()
    engine = engine_from_settings(settings)
    try:
        with Session(engine) as session:
            yield Resources(settings, session)
    finally:
        engine.dispose()
