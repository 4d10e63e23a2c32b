"""Every `flask` command behaves alike: --help, the positional DATASET (any case; a missing one
exits 2 naming the known ones), --json on every command that lists or reports, exit 2 for
"nothing found", no SECRET_KEY warning.

The commands are walked from app.cli.COMMANDS, so a new command is held to the same rules
without editing this test: it takes a dataset as `dataset_argument()` and lists or reports
with `json_option` (app/cli/arguments.py, app/cli/reporting.py), or is named below with why not.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
from sqlalchemy import func, select

from app.cli import COMMANDS, LazyCommand
from app.cli.arguments import ALIAS_REMOVED_IN, DatasetName
from app.models import Dataset, Image, LoadRun
from globals import DATA_DIR, ROOT
from load_db.engine.progress import progress_bar

# Commands that change one thing and say so in a line (or print a token): no --json.
WITHOUT_JSON = {
    "demo-token": "prints the token as its last line, for scripts",
    "apikey create": "prints the token as its last line, for scripts",
    "apikey revoke": "one change, one line",
    "apikey grant": "one change, one line",
    "apikey revoke-grant": "one change, one line",
    "dataset delete": "one change, one line",
    "qc review": "one change, one line",
    "qc gold-standard set": "its --json takes a header file (an input), kept for scripts",
}
# Options naming datasets that are not the dataset a command acts on.
DATASET_OPTIONS = {
    "apikey create": "--datasets A,B: the datasets a new key may see",
    "qc gold-standard set": "--dataset goes with --json FILE, in place of IMAGE_ID",
}
# Flask-Migrate's group: not ours, only its --help is checked.
FOREIGN = {"db"}


def leaves(path: tuple[str, ...], command: click.Command):
    """(command line words, command) of every command under `command`, groups walked."""
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from leaves((*path, name), sub)
    else:
        yield path, command


def every_command() -> dict[str, click.Command]:
    """{'qc completeness': command, ...}: every registered command but Flask-Migrate's."""
    found = {}
    for name, (target, short_help) in COMMANDS.items():
        if name not in FOREIGN:
            found.update({" ".join(path): command for path, command
                          in leaves((name,), LazyCommand(name, target, short_help).command)})
    return found


def dataset_arguments(command: click.Command) -> list[click.Argument]:
    return [param for param in command.params
            if isinstance(param, click.Argument) and isinstance(param.type, DatasetName)]


def has_json(command: click.Command) -> bool:
    return any(param.opts == ["--json"] and param.is_flag for param in command.params
               if isinstance(param, click.Option))


def test_every_command_takes_the_shared_dataset_argument_and_json_option():
    commands = every_command()
    assert set(WITHOUT_JSON) | set(DATASET_OPTIONS) <= set(commands)  # no stale exemption
    for name, command in commands.items():
        assert has_json(command) != (name in WITHOUT_JSON), name
        for param in command.params:
            names_a_dataset = "dataset" in (param.name or "") or isinstance(param.type,
                                                                            DatasetName)
            if names_a_dataset and name not in DATASET_OPTIONS:
                assert isinstance(param, click.Argument), (name, param.name)
                assert (param.name, param.metavar) == ("dataset", "DATASET"), name
                assert isinstance(param.type, DatasetName), name
        # DATASET comes first (apikey grant/revoke-grant: after the key they act on).
        arguments = [param.name for param in command.params if isinstance(param, click.Argument)]
        if "dataset" in arguments and not name.startswith("apikey "):
            assert arguments[0] == "dataset", name


def placeholder_args(command: click.Command, dataset: str, folder: Path) -> list[str]:
    """Arguments that get `command` past click's parsing, with `dataset` as DATASET."""
    args = []
    for param in command.params:
        if not isinstance(param, click.Argument):
            continue
        if isinstance(param.type, DatasetName):
            args.append(dataset)
        elif not param.required:
            continue
        elif isinstance(param.type, click.Path):
            args.append(str(folder))
        elif isinstance(param.type, click.types.IntParamType):
            args.append("1")
        elif isinstance(param.type, click.Choice):
            args.append(str(param.type.choices[0]))
        else:
            args.append("X=1")
    return args


def test_every_command_on_a_seeded_database(app, seeded, tmp_path, shared_data, caplog):
    runner = app.test_cli_runner()
    known = sorted(seeded.scalars(select(Dataset.designation)))
    runs = seeded.scalar(select(func.count()).select_from(LoadRun))  # the seed's
    commands = every_command()
    for name in [*commands, *COMMANDS]:
        helped = runner.invoke(args=[*name.split(), "--help"])
        assert helped.exit_code == 0 and helped.stdout.startswith("Usage: "), name

    # A missing dataset: exit 2, naming it and every known one, in every command that takes one.
    missing = f"no dataset 'NOPE' (known: {', '.join(known)})"
    with_dataset = {name: command for name, command in commands.items()
                    if dataset_arguments(command)}
    assert {"load", "load-bids", "load-dicom", "harmonise", "load-runs", "upload",
            "check-storage", "previews", "names", "audit", "qc completeness",
            "dataset delete"} <= set(with_dataset)
    for name, command in with_dataset.items():
        result = runner.invoke(args=[*name.split(), *placeholder_args(command, "NOPE",
                                                                      tmp_path)])
        assert result.exit_code == 2, (name, result.output)
        assert missing in result.output, (name, result.output)
    assert seeded.scalar(select(func.count()).select_from(LoadRun)) == runs  # none started

    # --json on every command that lists or reports and takes no argument but a dataset (any
    # case; a dry run where there is one): valid JSON on stdout, nothing else there.
    printed = {}
    for name, command in commands.items():
        others = [param for param in command.params if isinstance(param, click.Argument)
                  and not isinstance(param.type, DatasetName)]
        if not has_json(command) or others:
            continue
        options = {opt for param in command.params for opt in param.opts}
        args = [*name.split(), *placeholder_args(command, "hcp", tmp_path), "--json",
                *(["--dry-run"] if "--dry-run" in options else [])]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (name, result.output)
        printed[name] = json.loads(result.stdout)
    assert {"seed", "load", "load-runs", "dataset list", "dataset examples", "apikey list",
            "audit", "previews", "names", "harmonise", "qc completeness"} <= set(printed)
    behavioral = pd.read_csv(DATA_DIR / "HCP" / "unrestricted_behavioral.csv", dtype=str)
    assert printed["load"]["dry_run"] is True
    assert printed["load"]["tables"]["subject"]["inserted"] == behavioral["Subject"].nunique()
    assert sorted(row["designation"] for row in printed["dataset list"]) == known
    assert (printed["load-runs"], printed["apikey list"], printed["audit"]) == ([], [], [])
    assert printed["previews"] == {"made": 0, "present": 0, "failed": []}

    # "Nothing found" for a named thing exits 2; a known dataset without loads lists nothing.
    nope = runner.invoke(args=["load-runs", "NOPE"])
    assert (nope.exit_code, nope.stdout) == (2, "")
    assert nope.stderr.splitlines()[-1] == f"Error: Invalid value for 'DATASET': {missing}"
    history = runner.invoke(args=["qc", "history", "999999"])
    assert (history.exit_code, history.stderr) == (2, "Error: no image with id 999999\n")

    # load-dicom on a folder without DICOM files: exit 2 naming it, nothing written.
    bids = shared_data / "bids" / "eyetracking_fmri"
    files = sum(len(names) for _, _, names in os.walk(bids))
    refused = runner.invoke(args=["load-dicom", "NEWDICOM", str(bids), "--register"])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith(
        f"Error: {bids}: no DICOM file found ({files} other file(s) skipped, e.g. ")
    assert refused.stderr.endswith(") (nothing was written)\n")
    assert seeded.scalar(select(Dataset.id).where(Dataset.designation == "NEWDICOM")) is None
    assert seeded.scalar(select(func.count()).select_from(Image)) == 0

    # The deprecated --dataset of load-bids: the same load, and a note logged (on stderr).
    new = runner.invoke(args=["load-bids", "NEWBIDS", str(bids), "--register", "--dry-run",
                              "--json"])
    old = runner.invoke(args=["load-bids", str(bids), "--dataset", "NEWBIDS", "--register",
                              "--dry-run", "--json"])
    assert (new.exit_code, old.exit_code) == (0, 0), old.output
    assert json.loads(old.stdout) == json.loads(new.stdout)
    subjects = pd.read_csv(bids / "participants.tsv", sep="\t", dtype=str)["participant_id"]
    assert json.loads(new.stdout)["tables"]["subject"]["inserted"] == subjects.nunique()
    assert [record.getMessage() for record in caplog.records
            if record.name == "app.cli.arguments"] == [
        f"Deprecated: `flask load-bids ... --dataset NAME` is removed in release "
        f"{ALIAS_REMOVED_IN}; give the dataset first: `flask load-bids NAME ...`."]


def test_no_command_warns_about_the_secret_key(tmp_path):
    """`flask --help` builds the app as every command does (the warning used to come from
    there), in a real process with no SECRET_KEY: stderr never mentions it."""
    env = {name: value for name, value in os.environ.items() if name != "SECRET_KEY"}
    env.update(FLASK_APP="app", FLASK_CONFIG="testing",
               DATABASE_URL=f"sqlite:///{tmp_path / 'mbid.db'}")
    result = subprocess.run([sys.executable, "-m", "flask", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert all(f"  {name} " in result.stdout for name in COMMANDS)
    assert [line for line in result.stderr.splitlines() if "SECRET_KEY" in line] == []


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only_on_stderr(monkeypatch):
    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        assert list(progress_bar(range(3), desc="counting", unit=" steps", leave=True)) == [
            0, 1, 2]
        assert ("counting: 100%" in stream.getvalue() and "3/3" in stream.getvalue()) == shown
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert list(progress_bar(range(3), desc="short", min_total=4)) == [0, 1, 2]
    assert terminal.getvalue() == ""
