"""Command registration: the API's app factory imports no loader; commands load on use."""
import json
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


def test_every_command_is_listed_and_its_help_comes_from_its_module():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["--help"])
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in listing.output
    result = runner.invoke(args=["load", "--help"])
    assert result.exit_code == 0 and "--data-dir" in result.output
