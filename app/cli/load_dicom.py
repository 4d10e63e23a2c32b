"""`flask load-dicom ROOT --dataset NAME`: load a folder of DICOM series in one transaction."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_report, json_option
from app.cli.sources import (
    check_registrable,
    dataset_option,
    dry_run_option,
    register_option,
    root_or_storage,
)
from app.extensions import db
from app.storage import get_storage
from app.storage.trees import StorageTree
from load_file.checksums import record_image_checksums


def _study_file(dataset: str) -> Path | None:
    """The study configuration beside the dataset's package (load_db/<DATASET>/study.yaml)."""
    from load_db.datasets import find_dataset
    from load_db.engine import LoadError

    try:
        return find_dataset(dataset).study_file
    except LoadError:
        return None  # a dataset without a package of its own (e.g. --register)


@click.command("load-dicom")
@click.argument("root", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--storage-prefix", help="Read the series from object storage under this key "
              "prefix instead of from ROOT on disk (headers only: the first bytes of each file).")
@dataset_option
@register_option
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="A dataset's or site's rules or study configuration (YAML), tried before the "
                   "default rules (default: study.yaml of the dataset's package, if any).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Processes reading headers (default: the machine's cores).")
@click.option("--strict", is_flag=True,
              help="Stop, writing nothing, at the first unreadable file or inconsistent series "
                   "(by default they are reported and left out).")
@dry_run_option
@json_option
def load_dicom_command(root: Path | None, storage_prefix: str | None, dataset: str,
                       register: bool, rules_file: Path | None, workers: int | None,
                       strict: bool, dry_run: bool, as_json: bool) -> None:
    """Load the DICOM series under ROOT into dataset NAME (headers only, never pixels).

    Series are typed by the rules; every series not stored is reported with the reason. With
    --storage-prefix the files are read from the configured object storage instead.
    """
    from load_db.dicom_load import load_dicom  # loaders are imported only when a command runs
    from load_db.engine import run_load

    check_registrable(dataset, register)
    rules_file = rules_file or _study_file(dataset)
    source = root_or_storage(root, storage_prefix, StorageTree)
    with load_errors_as_exit_codes():
        report = run_load(db.session, "load-dicom",
                          partial(load_dicom, dataset=dataset, register=register,
                                  rules_file=rules_file, workers=workers, strict=strict),
                          source, dataset=dataset, dry_run=dry_run)
    if not dry_run:  # series whose files were uploaded before the load get their checksums
        record_image_checksums(db.session, get_storage(), dataset)
    echo_report(report, as_json)
