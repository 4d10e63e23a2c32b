"""Command registration: the API's app factory imports no loader; commands load on use."""
import json
import os
import subprocess
import sys

import click

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


def heavy_modules_imported_by(database_url: str, *args: str,
                              modules: tuple[str, ...] = HEAVY_MODULES) -> dict:
    """Run `flask ARGS` in a fresh interpreter on `database_url`; return its exit code, the
    `modules` it imported ("heavy") and what it printed before ("output")."""
    env = {**os.environ, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
           "DATABASE_URL": database_url}
    result = subprocess.run([sys.executable, "-c", COMMAND_PROBE, json.dumps(modules),
                             *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    *output, last = result.stdout.splitlines()
    return {**json.loads(last), "output": "\n".join(output)}


def test_create_app_imports_no_heavy_library():
    probe = ("import json, sys, app\n"
             "app.create_app('testing', {'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
             f"print(json.dumps([name for name in {HEAVY_MODULES!r} if name in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == []


# The modules of the API's and the dashboard's routes: the `flask` command adds the routes
# (importing these) only for what needs them.
ROUTE_MODULES = ("app.api", "app.api.images", "app.dashboard", "app.dashboard.views")


def test_help_and_apikey_list_start_without_heavy_libraries_or_routes(database_url, session):
    for args in (["--help"], ["apikey", "list"], ["load-runs"]):
        probe = heavy_modules_imported_by(database_url, *args,
                                          modules=HEAVY_MODULES + ROUTE_MODULES)
        assert (probe["exit"], probe["heavy"]) == (0, [])
        if args == ["--help"]:  # every command listed all the same, smorest's too
            assert "  openapi " in probe["output"]
            assert all(f"  {name} " in probe["output"] for name in COMMANDS)


def test_the_url_map_and_other_commands_get_every_route(database_url, session):
    routes = heavy_modules_imported_by(database_url, "routes", modules=ROUTE_MODULES)
    assert (routes["exit"], routes["heavy"]) == (0, list(ROUTE_MODULES))
    assert "/api/v1/images" in routes["output"] and "/dashboard/cohorts" in routes["output"]
    document = heavy_modules_imported_by(database_url, "openapi", "print", modules=ROUTE_MODULES)
    assert document["heavy"] == list(ROUTE_MODULES)
    assert "/api/v1/images" in json.loads(document["output"])["paths"]


def test_an_app_built_by_the_flask_command_adds_its_routes_on_first_need():
    from flask.cli import ScriptInfo

    # Built last, as a command builds its one app: the API extension serves the last app built.
    built = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with click.Context(click.Command("flask"), obj=ScriptInfo()):
        deferred = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "dashboard" not in deferred.blueprints and "dashboard" in built.blueprints
    routes = {rule.rule for rule in deferred.url_map.iter_rules()}  # the first need
    assert routes == {rule.rule for rule in built.url_map.iter_rules()}
    assert deferred.blueprints.keys() == built.blueprints.keys()
    assert deferred.test_client().get("/api/v1/health").status_code == 200


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
