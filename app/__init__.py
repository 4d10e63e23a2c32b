"""MBID-db: the Flask application factory.

Importing `app` (or `app.models`) loads no Flask: create_app imports the web frameworks when it
builds an app, so the engine, the adapters and the scripts can use the models without them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from config import load_settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from config/<config_name>.py (default: $FLASK_CONFIG, else globals).

    `overrides` replaces settings after the environment has been applied (used by tests).
    Built by the `flask` command line, the app gets the API's and the dashboard's routes only
    when first needed (app/routes_on_demand.py): most commands route no request.
    """
    from app import models  # noqa: F401  (register every table)
    from app.access import auth
    from app.access.visibility import init_visibility
    from app.cli import COMMANDS, register_commands
    from app.extensions import api, db, init_connection_checks, init_migrations
    from app.http import cors, errors, headers, swagger_assets
    from app.qc.hidden import init_qc_state
    from app.routes_on_demand import MbidFlask, loaded_by_flask_command

    app = MbidFlask(__name__, instance_relative_config=False)
    app.config.from_mapping(API_SETTINGS)
    app.config.from_mapping(load_settings(config_name))
    if overrides:
        app.config.from_mapping(overrides)
    swagger_assets.init_app(app)  # before api.init_app, which reads the assets' URL
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        raise RuntimeError("no database configured: set DATABASE_URL or SQLALCHEMY_DATABASE_URI")
    create_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    configure_logging()

    db.init_app(app)
    init_connection_checks(app)
    init_migrations(app, MIGRATIONS_DIR)
    errors.init_app(app, api)  # before api.init_app, which documents and registers the handlers
    api.init_app(app)
    auth.init_app(app)
    headers.init_app(app)
    cors.init_app(app)
    init_visibility()
    init_qc_state()
    register_commands(app)
    if loaded_by_flask_command():  # most commands route no request: add the routes on need
        app.add_routes_when_needed(lambda: add_routes(app), frozenset(COMMANDS))
    else:
        add_routes(app)
    return app


def add_routes(app: Flask) -> None:
    """Serve the dashboard and the API from `app` (their modules are imported here)."""
    from app import dashboard
    from app.api import init_app as init_api
    from app.extensions import api

    dashboard.init_app(app)
    init_api(app, api)


def configure_logging() -> None:
    """Log INFO and above to stderr, unless the process has configured logging already."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def create_sqlite_folder(uri: str) -> None:
    """SQLite creates its file but not the folder: make instance/ on a fresh clone."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


from globals import ROOT  # noqa: E402  (kept below the factory it configures)

MIGRATIONS_DIR = ROOT / "migrations"

# flask-smorest: the OpenAPI document and its interactive page live under /api/v1.
API_SETTINGS = {
    "API_TITLE": "MBID-db",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "An API key's token. An operation needs the scope its "
                               "x-required-scope names (read when absent); the key sees only "
                               "the datasets granted to it."}}
        },
        "security": [{"bearerAuth": []}],
    },
}
