"""`flask load-dicom ROOT --dataset NAME`: load a folder of DICOM series in one transaction."""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import IO

import click

from app.cli.errors import load_errors_as_exit_codes
from app.storage import StorageError, StorageTree, get_storage, join_key


class StoredFiles(StorageTree):
    """The objects under a storage prefix as the DICOM adapter reads them: listed once, each
    read as a stream (only its first bytes, for most files)."""

    def open(self, path: str) -> IO[bytes]:
        """A binary stream of the object at `path` (relative to the prefix)."""
        return self.storage.open(join_key(self.prefix, path))


@click.command("load-dicom")
@click.argument("root", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--storage-prefix", help="Read the series from object storage under this key "
              "prefix instead of from ROOT on disk (headers only: the first bytes of each file).")
@click.option("--dataset", "dataset", required=True,
              help="The dataset's designation in the seed list.")
@click.option("--register", is_flag=True,
              help="Create the dataset when it is not in the seed list instead of stopping.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="A dataset's or site's rules (YAML), tried before the default rules.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Processes reading headers (default: the machine's cores).")
@click.option("--strict", is_flag=True,
              help="Stop, writing nothing, at the first unreadable file or inconsistent series "
                   "(by default they are reported and left out).")
@click.option("--dry-run", is_flag=True, help="Read, check and count everything, then roll back.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def load_dicom_command(root: Path | None, storage_prefix: str | None, dataset: str,
                       register: bool, rules_file: Path | None, workers: int | None,
                       strict: bool, dry_run: bool, as_json: bool) -> None:
    """Load the DICOM series under ROOT into dataset NAME (headers only, never pixels).

    Series are typed by the rules; every series not stored is reported with the reason. With
    --storage-prefix the files are read from the configured object storage instead.
    """
    from load_db.dicom.load import load_dicom  # loaders are imported only when a command runs
    from load_db.engine import run_load

    if (root is None) == (storage_prefix is None):
        raise click.UsageError("give either ROOT or --storage-prefix (exactly one)")
    source: Path | StoredFiles = root
    if storage_prefix is not None:
        try:
            source = StoredFiles(get_storage(), storage_prefix)
        except StorageError as exc:
            raise click.BadParameter(str(exc), param_hint="--storage-prefix") from exc
    with load_errors_as_exit_codes():
        report = run_load("load-dicom", partial(load_dicom, dataset=dataset, register=register,
                                                rules_file=rules_file, workers=workers,
                                                strict=strict),
                          source, dataset=dataset, dry_run=dry_run)
    click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True) if as_json
               else report.summary())
