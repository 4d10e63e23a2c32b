"""Command registration: the API's app factory imports no loader; commands load on use."""
import json
import os
import subprocess
import sys

from app import create_app
from app.cli import COMMANDS
from globals import ROOT

PROBE = """
import json, sys
import app
app.create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(json.dumps(sorted(name for name in sys.modules
                        if name.split(".")[0] in ("load_db", "load_file"))))
"""


def test_create_app_imports_no_loader_in_a_fresh_interpreter():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []


# Libraries that take most of a command's start-up time: only the commands that need them (a load,
# a migration, an upload, a Parquet export) import them.
HEAVY_MODULES = ("alembic", "flask_migrate", "mako", "pandas", "numpy", "pyarrow", "boto3",
                 "botocore", "ibm_boto3", "ibm_botocore", "pydicom", "schemathesis", "hypothesis")

# Runs `flask ARGS` in this interpreter, then prints which heavy modules it imported.
COMMAND_PROBE = """
import json, sys
from flask.cli import main
heavy = json.loads(sys.argv[1])
sys.argv = ["flask", *sys.argv[2:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "heavy": [name for name in heavy if name in sys.modules]}))
"""


def heavy_modules_imported_by(database_url: str, *args: str) -> dict:
    """Run `flask ARGS` in a fresh interpreter on `database_url`; return its exit code and the
    heavy modules it imported."""
    env = {**os.environ, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
           "DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-c", COMMAND_PROBE, json.dumps(HEAVY_MODULES),
                             *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_create_app_imports_no_heavy_library():
    probe = ("import json, sys, app\n"
             "app.create_app('testing', {'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
             f"print(json.dumps([name for name in {HEAVY_MODULES!r} if name in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_help_and_apikey_list_start_without_heavy_libraries(database_url, session):
    assert heavy_modules_imported_by(database_url, "--help") == {"exit": 0, "heavy": []}
    assert heavy_modules_imported_by(database_url, "apikey", "list") == {"exit": 0, "heavy": []}
    assert heavy_modules_imported_by(database_url, "load-runs") == {"exit": 0, "heavy": []}


def test_the_migration_command_still_runs_alembic(database_url, session):
    probe = heavy_modules_imported_by(database_url, "db", "--help")
    assert probe["exit"] == 0 and "alembic" in probe["heavy"]


def test_every_command_is_listed_and_its_help_comes_from_its_module():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["--help"])
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in listing.output
    result = runner.invoke(args=["load", "--help"])
    assert result.exit_code == 0 and "--data-dir" in result.output
