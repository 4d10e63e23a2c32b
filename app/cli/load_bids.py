"""`flask load-bids ROOT --dataset NAME`: load any BIDS dataset in one transaction."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_report, json_option
from app.extensions import db
from app.storage import StorageError, check_key, get_storage
from load_db.bids.load import load_bids
from load_db.bids.tree import FileTree, StorageTree
from load_db.engine import run_load
from load_file.checksums import record_image_checksums


@click.command("load-bids")
@click.argument("root", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--storage-prefix", help="Read the dataset from object storage under this key "
              "prefix instead of from ROOT on disk (only the small metadata files are read).")
@click.option("--dataset", "dataset", required=True,
              help="The dataset's designation in the seed list (e.g. OpenPain).")
@click.option("--register", is_flag=True,
              help="Create the dataset when it is not in the seed list instead of stopping.")
@click.option("--dry-run", is_flag=True, help="Read, check and count everything, then roll back.")
@json_option
def load_bids_command(root: Path | None, storage_prefix: str | None, dataset: str,
                      register: bool, dry_run: bool, as_json: bool) -> None:
    """Load the subjects, visits and images of the BIDS dataset at ROOT into dataset NAME.

    The dataset is read from ROOT on disk, or with --storage-prefix from the configured object
    storage, with the same result.
    """
    if (root is None) == (storage_prefix is None):
        raise click.UsageError("give either ROOT or --storage-prefix (exactly one)")
    if register and check_key(dataset):  # its designation becomes its storage prefix
        raise click.BadParameter(f"{dataset!r} cannot be a dataset's storage prefix: "
                                 f"{check_key(dataset)}", param_hint="--dataset")
    tree: FileTree | Path = root
    if storage_prefix is not None:
        try:
            tree = StorageTree(get_storage(), storage_prefix)
        except StorageError as exc:
            raise click.BadParameter(str(exc), param_hint="--storage-prefix") from exc
    with load_errors_as_exit_codes():
        report = run_load(db.session, "load-bids",
                          partial(load_bids, dataset=dataset, register=register), tree,
                          dataset=dataset, dry_run=dry_run)
    if not dry_run:  # images whose files were uploaded before the load get their checksums
        record_image_checksums(db.session, get_storage(), dataset)
    echo_report(report, as_json)
