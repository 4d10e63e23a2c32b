"""The deployment's pseudonym secret: from the environment, else created once in instance/."""
from __future__ import annotations

import stat

import pytest

from load_db.dicom.secret import DEFAULT_SECRET_ENV, SECRET_FILE, SecretError, deployment_secret


@pytest.fixture
def no_secret_in_environment(monkeypatch):
    monkeypatch.delenv(DEFAULT_SECRET_ENV, raising=False)


def test_the_environment_secret_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv(DEFAULT_SECRET_ENV, "from-env")
    monkeypatch.setenv("SITE_SECRET", "site")
    assert deployment_secret(folder=tmp_path) == b"from-env"
    assert deployment_secret("SITE_SECRET", folder=tmp_path) == b"site"
    assert not (tmp_path / SECRET_FILE).exists()


def test_without_one_the_first_use_creates_an_owner_only_secret_and_reuses_it(
        no_secret_in_environment, tmp_path):
    folder = tmp_path / "instance"
    first = deployment_secret(folder=folder)
    path = folder / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and int(first, 16) >= 0
    assert deployment_secret(folder=folder) == first
    assert sorted(p.name for p in folder.iterdir()) == [SECRET_FILE]  # no draft left behind


def test_a_kept_secret_readable_by_others_is_made_owner_only(no_secret_in_environment,
                                                             tmp_path):
    path = tmp_path / SECRET_FILE
    path.write_text("kept\n")
    path.chmod(0o644)
    assert deployment_secret(folder=tmp_path) == b"kept"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_named_variable_left_unset_is_an_error_not_a_new_key(monkeypatch, tmp_path):
    monkeypatch.delenv("MBID_TEST_UNSET_SECRET", raising=False)
    with pytest.raises(SecretError, match="MBID_TEST_UNSET_SECRET holds no secret"):
        deployment_secret("MBID_TEST_UNSET_SECRET", folder=tmp_path)
    assert not (tmp_path / SECRET_FILE).exists()


def test_an_empty_kept_secret_is_an_error(no_secret_in_environment, tmp_path):
    (tmp_path / SECRET_FILE).write_text("\n")
    (tmp_path / SECRET_FILE).chmod(0o600)
    with pytest.raises(SecretError) as error:
        deployment_secret(folder=tmp_path)
    assert str(error.value) == f"{tmp_path / SECRET_FILE}: the pseudonym secret is empty"
