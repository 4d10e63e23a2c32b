"""Flask extensions, created once and bound to an app by create_app.

`db` adopts the models' own declarative base (app/models/base.py), which imports no Flask.
"""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

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


db = SQLAlchemy(model_class=Base)
api = LazyDocApi()
