"""Configuration: which module is used, and how the environment overrides it."""
import subprocess
import sys

import pytest

from app import create_app
from config import (
    ConfigError,
    config_name,
    development,
    load_settings,
    normalise_database_url,
    production,
    testing,
)
from config.base import Settings
from globals import ROOT


def test_globals_environment_is_the_default(monkeypatch):
    monkeypatch.delenv("FLASK_CONFIG", raising=False)
    assert config_name() == "development"
    assert load_settings(environ={})["CONFIG_NAME"] == "development"


def test_flask_config_variable_overrides_globals(monkeypatch):
    monkeypatch.setenv("FLASK_CONFIG", "testing")
    assert config_name() == "testing"
    assert config_name("production") == "production"  # an explicit name wins


def test_unknown_configuration_is_an_error():
    with pytest.raises(ConfigError, match="unknown configuration 'staging'"):
        config_name("staging")


def test_development_uses_untracked_instance_folder():
    settings = load_settings("development", environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("/instance/mbid.db")
    assert settings["LOCAL_STORAGE_ROOT"].endswith("/instance/storage")
    assert settings["SQLALCHEMY_TRACK_MODIFICATIONS"] is False


@pytest.mark.parametrize("name", ["development", "testing", "production"])
def test_database_url_overrides_every_configuration(name):
    settings = load_settings(name, environ={"DATABASE_URL": "postgresql://u@db.example:5432/mbid"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/mbid"


def test_settings_are_overridden_by_environment_variables_of_the_same_name():
    settings = load_settings("production", environ={
        "BUCKET": "images",
        "COS_CREDENTIALS": '{"apikey": "k", "resource_instance_id": "crn:v1:x"}',
        "SQLALCHEMY_TRACK_MODIFICATIONS": "true",
        "SERVICE_ENDPOINT": "https://s3.example",
    })
    assert settings["BUCKET"] == "images"
    assert settings["COS_CREDENTIALS"] == {"apikey": "k", "resource_instance_id": "crn:v1:x"}
    assert settings["SQLALCHEMY_TRACK_MODIFICATIONS"] is True
    assert settings["SERVICE_ENDPOINT"] == "https://s3.example"


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("COS_CREDENTIALS", "{not json", "environment variable COS_CREDENTIALS must be JSON"),
    ("COS_CREDENTIALS", "[1, 2]", "environment variable COS_CREDENTIALS: Input should be a "
                                  "valid dictionary, got '[1, 2]'"),
    ("CORS_ORIGINS", "[1", "environment variable CORS_ORIGINS must be JSON"),
    ("SQLALCHEMY_TRACK_MODIFICATIONS", "maybe", "environment variable "
     "SQLALCHEMY_TRACK_MODIFICATIONS: Input should be a valid boolean, unable to interpret "
     "input, got 'maybe'"),
    ("MULTIPART_THRESHOLD", "lots", "environment variable MULTIPART_THRESHOLD: Input should be "
     "a valid integer, unable to parse string as an integer, got 'lots'"),
])
def test_bad_environment_override_is_a_clear_error(variable, value, message):
    with pytest.raises(ConfigError) as error:
        load_settings("development", environ={variable: value})
    assert str(error.value) == message


@pytest.mark.parametrize(("raw", "value"), [
    ("1", True), ("true", True), ("yes", True), ("on", True),
    ("0", False), ("false", False), ("no", False), ("off", False),
])
def test_booleans_take_the_usual_words(raw, value):
    settings = load_settings("production", environ={"SESSION_COOKIE_SECURE": raw})
    assert settings["SESSION_COOKIE_SECURE"] is value


def test_numbers_and_lists_are_read_from_their_variables():
    settings = load_settings("development", environ={
        "MULTIPART_THRESHOLD": "1048576", "CORS_ORIGINS": '["https://lab.example.org"]'})
    assert settings["MULTIPART_THRESHOLD"] == 1048576
    assert settings["CORS_ORIGINS"] == ["https://lab.example.org"]


def test_only_upper_case_names_override():
    assert load_settings("development", environ={"bucket": "x"})["BUCKET"] == "mbid-dev"


def test_an_empty_database_url_leaves_the_configured_database():
    settings = load_settings("testing", environ={"DATABASE_URL": ""})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_every_setting_is_declared_once_in_the_base_module():
    """The environments only override: none declares a setting the base does not have."""
    assert {name: Settings.model_fields[name].default for name in (
        "STORAGE_BACKEND", "SESSION_COOKIE_SECURE", "SQLALCHEMY_ENGINE_OPTIONS",
        "MULTIPART_THRESHOLD", "PROCESSING_LEASE_SECONDS")} == {
        "STORAGE_BACKEND": "local", "SESSION_COOKIE_SECURE": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {}, "MULTIPART_THRESHOLD": 64 * 1024 * 1024,
        "PROCESSING_LEASE_SECONDS": 300}
    modules = {"development": development, "testing": testing, "production": production}
    for module in modules.values():
        assert issubclass(module.Settings, Settings)
        assert set(module.Settings.model_fields) == set(Settings.model_fields)
    overridden = {name: sorted(module.Settings.__annotations__)
                  for name, module in modules.items()}
    assert overridden == {
        "development": ["BUCKET", "LOCAL_STORAGE_ROOT", "PUBLIC_BASE_URL",
                        "SQLALCHEMY_DATABASE_URI"],
        "testing": ["BUCKET", "LOCAL_STORAGE_ROOT", "PUBLIC_BASE_URL",
                    "SQLALCHEMY_DATABASE_URI", "TESTING"],
        "production": ["SESSION_COOKIE_SECURE", "STORAGE_BACKEND"],
    }


def test_production_defaults():
    settings = load_settings("production", environ={})
    assert (settings["STORAGE_BACKEND"], settings["SESSION_COOKIE_SECURE"],
            settings["SQLALCHEMY_ENGINE_OPTIONS"], settings["SQLALCHEMY_DATABASE_URI"],
            settings["PUBLIC_BASE_URL"], settings["BUCKET"]) == (
        "cos", True, {}, "", "", "")


def test_settings_are_read_without_flask():
    """The engine reads the same settings as the app, without importing Flask."""
    script = ("import sys; from config import load_settings; "
              "settings = load_settings('testing', environ={'BUCKET': 'b'}); "
              "print(settings['BUCKET'], settings['CONFIG_NAME'], 'flask' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout.split() == ["b", "testing", "False"]


@pytest.mark.parametrize(("url", "expected"), [
    ("postgres://a@h/db", "postgresql+psycopg://a@h/db"),
    ("postgresql://a@h/db", "postgresql+psycopg://a@h/db"),
    ("postgresql+psycopg://a@h/db", "postgresql+psycopg://a@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_the_installed_driver(url, expected):
    assert normalise_database_url(url) == expected


def test_production_without_database_refuses_to_start(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SQLALCHEMY_DATABASE_URI", raising=False)
    with pytest.raises(RuntimeError, match="no database configured"):
        create_app("production")


def test_app_uses_the_selected_configuration(monkeypatch):
    monkeypatch.setenv("FLASK_CONFIG", "testing")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["CONFIG_NAME"] == "testing"
    assert app.config["TESTING"] is True
