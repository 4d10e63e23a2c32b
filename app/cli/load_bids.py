"""`flask load-bids DATASET ROOT`: load any BIDS dataset in one transaction."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from app.cli.arguments import DatasetAliasCommand, dataset_argument
from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_report, json_option
from app.cli.sources import (
    check_registrable,
    dry_run_option,
    register_option,
    root_or_storage,
)
from app.extensions import db
from app.storage import get_storage
from app.storage.trees import FileTree, StorageTree
from load_db.bids.load import load_bids
from load_db.engine import run_load
from load_db.engine.mapping import read_mapping
from load_file.checksums import record_image_checksums


@click.command("load-bids", cls=DatasetAliasCommand)
@dataset_argument(new_allowed=True)
@click.argument("root", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--storage-prefix", help="Read the dataset from object storage under this key "
              "prefix instead of from ROOT on disk (only the small metadata files are read).")
@register_option
@click.option("--full", is_flag=True, help="Read every file again, even those unchanged since "
              "the last load of the dataset from the same source.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The dataset's mapping file (mapping.yaml): participants.tsv "
                                 "labels onto conditions, participants.tsv and sessions.tsv "
                                 "columns onto measures.")
@dry_run_option
@json_option
def load_bids_command(dataset: str, root: Path | None, storage_prefix: str | None,
                      register: bool, full: bool, mapping_file: Path | None, dry_run: bool,
                      as_json: bool) -> None:
    """Load the subjects, visits and images of the BIDS dataset at ROOT into DATASET (any
    case; --register creates one missing from the datasets table).

    The dataset is read from ROOT on disk, or with --storage-prefix from the configured object
    storage, with the same result. A re-load reads only the subjects whose files changed since
    the last load from the same source (--full: everything); images whose files are gone are
    soft-deleted.
    """
    check_registrable(dataset, register)
    tree: FileTree | Path = root_or_storage(root, storage_prefix, StorageTree)
    with load_errors_as_exit_codes():
        mapping = read_mapping(mapping_file) if mapping_file is not None else None
        report = run_load(db.session, "load-bids",
                          partial(load_bids, dataset=dataset, register=register, full=full,
                                  mapping=mapping), tree, dataset=dataset, dry_run=dry_run)
    if not dry_run:  # images whose files were uploaded before the load get their checksums
        record_image_checksums(db.session, get_storage(), dataset)
    echo_report(report, as_json)
