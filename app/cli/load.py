"""`flask load DATASET`: run one dataset's load_ scripts in order, as one transaction."""
from pathlib import Path

import click

from app.cli.errors import load_errors_as_exit_codes
from app.extensions import db
from app.storage import get_storage
from load_db.datasets import FOLDERS, data_dir_of, dataset_loader
from load_db.engine import run_load
from load_file.checksums import record_image_checksums


@click.command("load")
@click.argument("dataset", type=click.Choice(sorted(FOLDERS)))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset's files (default: data/<its folder>).")
@click.option("--dry-run", is_flag=True, help="Check and count everything, then roll back.")
def load_command(dataset: str, data_dir: Path | None, dry_run: bool) -> None:
    """Load DATASET's subjects, then its visits and images, in one transaction (idempotent)."""
    with load_errors_as_exit_codes():
        run_load(f"load {dataset}", dataset_loader(dataset),
                 data_dir or data_dir_of(dataset), dataset=dataset, dry_run=dry_run)
    if not dry_run:  # images whose files were uploaded before the load get their checksums
        record_image_checksums(db.session, get_storage(), dataset)
