"""Flask extensions, created once and bound to an app by create_app.

`db` adopts the models' own declarative base (app/models/base.py), which imports no Flask.
"""
from __future__ import annotations

import re
import threading
import time
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from app.models.base import Base

if TYPE_CHECKING:
    from flask_migrate import Migrate

class DeferredMigrateConfig:
    """What Flask-Migrate keeps in app.extensions["migrate"], with Alembic imported only when a
    migration runs: Flask-Migrate's own init_app imports Alembic (and Mako) for every command
    and every server start, which is most of their start-up time."""

    def __init__(self, database: SQLAlchemy, directory: Path, **alembic_options: Any) -> None:
        self.db = database
        self.directory = str(directory)
        self.configure_args = alembic_options

    @property
    def metadata(self) -> MetaData:
        """The metadata the migrations compare the models with."""
        return self.db.metadata

    @cached_property
    def migrate(self) -> Migrate:
        """The Flask-Migrate object, built (and Alembic imported) on first use."""
        from flask_migrate import Migrate

        return Migrate(db=self.db, directory=self.directory, **dict(self.configure_args))


def init_migrations(app: Flask, directory: Path) -> None:
    """Serve Flask-Migrate's functions (upgrade, downgrade...) for `app` from `directory`; the
    `flask db` command is registered, lazily, with the other commands (app.cli)."""
    app.extensions["migrate"] = DeferredMigrateConfig(
        db, directory, compare_type=True, render_as_batch=True)


class LazyDocApi(Api):
    """flask-smorest's Api, whose OpenAPI document describes each blueprint when the document
    is first read (/api/openapi.json, the docs page, `flask openapi`) rather than when the
    blueprint is registered: describing every route's schemas was a third of building the app,
    paid by every command, `flask --help` included, that never shows the document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._documenting = threading.Lock()
        super().__init__(*args, **kwargs)

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        """Bind to `app` with a new document (as flask-smorest does), nothing pending."""
        self._undocumented = []
        super().init_app(app, *args, **kwargs)

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """Register `blp` with the app now; describe it in the document when that is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    @property
    def spec(self) -> Any:
        """The OpenAPI document, with every registered blueprint described (in order)."""
        with self._documenting:
            while self._undocumented:
                blp, name, parameters = self._undocumented.pop(0)
                blp.register_views_in_doc(self, self._app, self._spec, name=name,
                                          parameters=parameters)
                self._spec.tag({"name": name, "description": blp.description})
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value


# A pooled connection unused for longer than this is checked (one round trip) before it is
# handed out: a server restart or an idle timeout closes connections that wait in the pool.
# One used more recently is handed out unchecked, which saves the round trip per request that
# SQLAlchemy's pool_pre_ping costs; if the server dropped it anyway, the statement's error
# invalidates the whole pool (each connection older than the error is replaced at its next
# checkout) and the request's key check retries on a fresh one (app/access/auth.py).
IDLE_CHECK_SECONDS = 10.0
# Where a pooled connection's record keeps when it was last returned (time.monotonic()).
RETURNED_AT = "mbid_returned_at"


def _note_return(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[RETURNED_AT] = time.monotonic()


def _check_if_idle(dialect: Dialect, dbapi_connection: Any, record: ConnectionPoolEntry,
                   _proxy: Any) -> None:
    returned_at = record.info.get(RETURNED_AT)
    if returned_at is None or time.monotonic() - returned_at < IDLE_CHECK_SECONDS:
        return  # new, or in use a moment ago
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as exc:
        # The pool replaces the connection with a new one and checks out again.
        raise DisconnectionError(f"pooled connection dropped while idle: {exc}") from exc


# Set in a connection's info once its transaction ran a statement that may write or lock.
_WROTE = "mbid_wrote"
# A statement that only reads: a SELECT taking no lock (FOR UPDATE / FOR SHARE ..., an
# advisory lock), which ends with its transaction.
_READ_ONLY = re.compile(
    r"\s*SELECT\b(?!.*(?:\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|advisory))",
    re.IGNORECASE | re.DOTALL)


def _note_statement(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if not connection.info.get(_WROTE) and not _READ_ONLY.match(statement):
        connection.info[_WROTE] = True


def _forget_statements(connection: Connection) -> None:
    if not connection.invalidated:  # an invalidated one's record is discarded with its info
        connection.info.pop(_WROTE, None)


def end_read_only_transaction() -> None:
    """Commit the session's transaction now if all it ran were reads (no write statement, no
    row lock, nothing pending in the session): right after the request's last statement, the
    transaction's end costs one round trip back to back with it, where the ROLLBACK of the
    request's teardown costs one more after the rendering (on a busy machine, the wait for the
    database process to be scheduled again). A transaction that wrote is left to its route."""
    session = db.session()
    if (not session.in_transaction() or session.new or session.dirty or session.deleted
            or session.connection().info.get(_WROTE)):
        return
    session.commit()


def init_connection_checks(app: Flask) -> None:
    """Check the app's pooled connections that have been idle (IDLE_CHECK_SECONDS) when they
    are checked out, and only those; note which transactions wrote
    (end_read_only_transaction)."""
    with app.app_context():
        for engine in db.engines.values():
            if not event.contains(engine.pool, "checkin", _note_return):
                event.listen(engine.pool, "checkin", _note_return)
                event.listen(engine.pool, "checkout", partial(_check_if_idle, engine.dialect))
                event.listen(engine, "before_cursor_execute", _note_statement)
                event.listen(engine, "commit", _forget_statements)
                event.listen(engine, "rollback", _forget_statements)


db = SQLAlchemy(model_class=Base)
api = LazyDocApi()
