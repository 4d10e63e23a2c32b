"""Configuration: which module is used, and how the environment overrides it."""
import pytest

from app import create_app
from config import ConfigError, config_name, load_config, normalise_database_url


def test_globals_environment_is_the_default(monkeypatch):
    monkeypatch.delenv("FLASK_CONFIG", raising=False)
    assert config_name() == "development"
    assert load_config(environ={})["CONFIG_NAME"] == "development"


def test_flask_config_variable_overrides_globals(monkeypatch):
    monkeypatch.setenv("FLASK_CONFIG", "testing")
    assert config_name() == "testing"
    assert config_name("production") == "production"  # an explicit name wins


def test_unknown_configuration_is_an_error():
    with pytest.raises(ConfigError, match="unknown configuration 'staging'"):
        config_name("staging")


def test_development_uses_untracked_instance_folder():
    settings = load_config("development", environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("/instance/mbid.db")
    assert settings["LOCAL_STORAGE_ROOT"].endswith("/instance/storage")
    assert settings["SQLALCHEMY_TRACK_MODIFICATIONS"] is False


@pytest.mark.parametrize("name", ["development", "testing", "production"])
def test_database_url_overrides_every_configuration(name):
    settings = load_config(name, environ={"DATABASE_URL": "postgresql://u@db.example:5432/mbid"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/mbid"


def test_settings_are_overridden_by_environment_variables_of_the_same_name():
    settings = load_config("production", environ={
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
    ("COS_CREDENTIALS", "{not json", "COS_CREDENTIALS must be JSON"),
    ("COS_CREDENTIALS", "[1, 2]", "COS_CREDENTIALS must be a JSON dict"),
    ("SQLALCHEMY_TRACK_MODIFICATIONS", "maybe", "must be true or false"),
])
def test_bad_environment_override_is_a_clear_error(variable, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config("development", environ={variable: value})


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
