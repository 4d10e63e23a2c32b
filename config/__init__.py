"""Select a configuration and read the environment's overrides; Flask is not needed.

The configuration is named by the FLASK_CONFIG environment variable, else by
globals.ENVIRONMENT. config/base.py declares every setting with its default; development.py,
testing.py and production.py override only what differs. Any setting can be overridden by an
environment variable of the same name (read by pydantic-settings; dict and list settings take
JSON). DATABASE_URL, when set, overrides SQLALCHEMY_DATABASE_URI.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsError,
)

from config.base import Settings
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


def settings_class(name: str | None = None) -> type[Settings]:
    """Return the Settings class of config/<name>.py (a subclass of config.base.Settings)."""
    return importlib.import_module(f"config.{config_name(name)}").Settings


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver that requirements.txt installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_settings(name: str | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return configuration `name`'s settings with the environment's overrides applied.

    Parameters
    ----------
    name
        development, testing or production (default: $FLASK_CONFIG, else globals.ENVIRONMENT).
    environ
        The variables to read (default: os.environ).

    Raises
    ------
    ConfigError
        For an unknown name, or a variable whose value does not fit its setting.
    """
    environ = dict(os.environ if environ is None else environ)
    if environ.get("DATABASE_URL"):
        environ["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    chosen = settings_class(name)
    try:
        settings = _from_environ(chosen, environ).model_dump()
    except SettingsError as exc:  # a dict or list setting whose variable is not JSON
        raise ConfigError(f"environment variable {_field_named(exc, chosen)} must be JSON") \
            from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"environment variable {error['loc'][0]}: {error['msg']}, "
                          f"got {environ.get(str(error['loc'][0]))!r}") from exc
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"])
    settings["CONFIG_NAME"] = config_name(name)
    return settings



def _from_environ(chosen: type[Settings], environ: dict[str, str]) -> Settings:
    """Build `chosen` reading `environ` in place of os.environ (tests pass their own)."""

    # pydantic-settings reads os.environ in this one method and offers no parameter for another
    # mapping; tests/config covers the override, so a change in a later version shows there.
    class MappingSource(EnvSettingsSource):
        def _load_env_vars(self) -> Mapping[str, str | None]:
            return environ

    class FromMapping(chosen):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
                cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (MappingSource(settings_cls),)

    return FromMapping()


def _field_named(error: SettingsError, chosen: type[Settings]) -> str:
    """The setting a SettingsError is about (its message quotes the field's name)."""
    return next((field for field in chosen.model_fields if f'"{field}"' in str(error)),
                "(unknown)")
