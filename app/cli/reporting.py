"""How a loading command ends: its report printed once on stdout, as text or as JSON."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

# The one --json of every command that lists or reports (a test checks each such command has it).
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print the result as JSON on stdout.")


def echo_json(value: Any) -> None:
    """Print `value` as JSON on stdout, the one way every command prints its --json result."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def echo_report(report: Any, as_json: bool) -> None:
    """Print a LoadReport on stdout: its summary, or its JSON form with --json."""
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.summary())


def when(moment: datetime | None) -> str | None:
    """A timestamp as commands print it (seconds, no zone: the database keeps UTC)."""
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")
