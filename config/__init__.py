"""Select a settings module from config/ and apply environment overrides.

The module is named by the FLASK_CONFIG environment variable, else by globals.ENVIRONMENT.
Every UPPER_CASE setting can be overridden by an environment variable of the same name; dict
and list settings take JSON. DATABASE_URL, when set, overrides SQLALCHEMY_DATABASE_URI.
"""
from __future__ import annotations

import importlib
import json
import os
from typing import Any

from globals import ENVIRONMENT

CONFIG_NAMES = ("development", "testing", "production")


class ConfigError(ValueError):
    """A configuration name or an environment override that cannot be used."""


def config_name(explicit: str | None = None) -> str:
    """Return the configuration to use: `explicit`, else $FLASK_CONFIG, else globals.ENVIRONMENT."""
    name = explicit or os.environ.get("FLASK_CONFIG") or ENVIRONMENT
    if name not in CONFIG_NAMES:
        raise ConfigError(f"unknown configuration {name!r}: "
                          f"choose one of {', '.join(CONFIG_NAMES)}")
    return name


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the setting it overrides."""
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"environment variable {name} must be true or false, got {raw!r}")
    if isinstance(default, (dict, list)):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"environment variable {name} must be JSON: {exc}") from exc
        if not isinstance(value, type(default)):
            raise ConfigError(f"environment variable {name} must be a JSON "
                              f"{type(default).__name__}")
        return value
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"environment variable {name} must be an integer, "
                              f"got {raw!r}") from exc
    return raw


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver that requirements.txt installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(name: str | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings of configuration `name` with environment overrides applied."""
    environ = os.environ if environ is None else environ
    module = importlib.import_module(f"config.{config_name(name)}")
    settings = {key: getattr(module, key) for key in dir(module) if key.isupper()}
    for key, default in settings.items():
        if key in environ:
            settings[key] = _coerce(key, environ[key], default)
    if environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    database_url = settings["SQLALCHEMY_DATABASE_URI"]
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url)
    settings["CONFIG_NAME"] = config_name(name)
    return settings
