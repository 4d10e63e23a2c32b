"""How a loading command ends: its report printed once on stdout, as text or as JSON."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")


def echo_report(report: Any, as_json: bool) -> None:
    """Print a LoadReport on stdout: its summary, or its JSON form with --json."""
    click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True) if as_json
               else report.summary())


def when(moment: datetime | None) -> str | None:
    """A timestamp as commands print it (seconds, no zone: the database keeps UTC)."""
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")
