"""Secrets kept in instance/: created once, owner-only, the same for every later process."""
import os
import stat
import subprocess
import sys

import pytest

from app.access.kept_secrets import kept_secret
from globals import INSTANCE_DIR, ROOT


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_secret_is_created_owner_only_and_then_reused(tmp_path):
    path = tmp_path / "nested" / "secret"
    first = kept_secret(path)
    assert len(first) == 64 and int(first, 16) >= 0
    assert mode_of(path) == 0o600
    assert kept_secret(path) == first
    assert kept_secret(tmp_path / "other") != first
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]  # no draft left


def test_a_secret_readable_by_others_is_made_owner_only(tmp_path):
    path = tmp_path / "secret"
    path.write_text("kept\n")
    path.chmod(0o644)
    assert kept_secret(path) == "kept"
    assert mode_of(path) == 0o600


def test_an_empty_secret_is_refused(tmp_path):
    path = tmp_path / "secret"
    path.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        kept_secret(path)


# The session key a development app gets without SECRET_KEY, printed by a fresh interpreter.
SESSION_KEY_PROBE = """
from app import create_app
print(create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"])
"""


def test_without_secret_key_the_dashboard_key_is_kept_and_no_warning_is_printed():
    """Every process (each command, each worker) signs cookies with the one kept key, and a
    command that never opens a session says nothing about it."""
    env = {name: value for name, value in os.environ.items()
           if name != "SECRET_KEY"}
    runs = [subprocess.run([sys.executable, "-c", SESSION_KEY_PROBE], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True) for _ in range(2)]
    keys = [run.stdout.strip().splitlines()[-1] for run in runs]
    assert keys[0] == keys[1] == (INSTANCE_DIR / "dashboard-secret").read_text().strip()
    assert mode_of(INSTANCE_DIR / "dashboard-secret") == 0o600
    assert ["SECRET_KEY" in run.stderr or "WARNING" in run.stderr for run in runs] \
        == [False, False]
