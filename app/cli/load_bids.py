"""`flask load-bids ROOT --dataset NAME`: load any BIDS dataset in one transaction."""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click

from app.cli.errors import load_errors_as_exit_codes
from load_db.bids.load import load_bids
from load_db.engine import run_load


@click.command("load-bids")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dataset", "dataset", required=True,
              help="The dataset's designation in the seed list (e.g. OpenPain).")
@click.option("--register", is_flag=True,
              help="Create the dataset when it is not in the seed list instead of stopping.")
@click.option("--dry-run", is_flag=True, help="Read, check and count everything, then roll back.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def load_bids_command(root: Path, dataset: str, register: bool, dry_run: bool,
                      as_json: bool) -> None:
    """Load the subjects, visits and images of the BIDS dataset at ROOT into dataset NAME."""
    with load_errors_as_exit_codes():
        report = run_load("load-bids", partial(load_bids, dataset=dataset, register=register),
                          root, dataset=dataset, dry_run=dry_run)
    click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True) if as_json
               else report.summary())
