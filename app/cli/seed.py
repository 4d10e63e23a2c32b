"""`flask seed`: load the master lists (datasets, conditions, file types, measures)."""
from pathlib import Path

import click

from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_report, json_option
from app.extensions import db
from globals import SEED_DIR
from load_db.engine import run_load
from load_db.seed import all as seed_all


@click.command("seed")
# SEED_DIR in the environment points a plain `flask seed` (as `make run` runs it) at another
# folder, e.g. a copy of the lists with a new dataset's row.
@click.option("--seed-dir", type=click.Path(file_okay=False, path_type=Path), default=SEED_DIR,
              envvar="SEED_DIR", show_default=True, show_envvar=True,
              help="Folder holding the seed lists.")
@click.option("--dry-run", is_flag=True, help="Check and count everything, then roll back.")
@json_option
def seed_command(seed_dir: Path, dry_run: bool, as_json: bool) -> None:
    """Load the datasets, conditions, file types and measures lists in one transaction."""
    with load_errors_as_exit_codes():
        report = run_load(db.session, "seed", seed_all.load, seed_dir, dry_run=dry_run)
    echo_report(report, as_json)
