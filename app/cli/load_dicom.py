"""`flask load-dicom DATASET ROOT`: load a folder of DICOM series in one transaction."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from load_file.checksums import record_image_checksums

if TYPE_CHECKING:  # the engine is imported only when a command runs
    from sqlalchemy.orm import Session

    from load_db.engine import LoadReport


def _study_file(dataset: str) -> Path | None:
    """The study configuration beside the dataset's package (load_db/<DATASET>/study.yaml)."""
    from load_db.datasets import find_dataset
    from load_db.engine import LoadError

    try:
        return find_dataset(dataset).study_file
    except LoadError:
        return None  # a dataset without a package of its own (e.g. --register)


def _load_some_dicom(session: Session, source: Path | FileTree, **options: Any) -> LoadReport:
    """load_dicom, refusing (rolled back, exit code 2) a source without any DICOM file: its
    files would all be skipped as non-DICOM and the load would look like a success."""
    from load_db.dicom.reader import NON_DICOM
    from load_db.dicom_load import load_dicom
    from load_db.engine import LoadError

    report = load_dicom(session, source, **options)
    read = sum(counts.inserted + counts.updated + counts.unchanged
               for counts in report.tables.values())
    if not read and set(report.ignored) <= {NON_DICOM}:
        skipped = report.ignored[NON_DICOM]
        raise LoadError(f"no DICOM file found ({skipped} other file(s) skipped"
                        + (f", e.g. {report.examples[NON_DICOM][0]}"
                           if report.examples.get(NON_DICOM) else "") + ")", file=source)
    return report


@click.command("load-dicom", cls=DatasetAliasCommand)
@dataset_argument(new_allowed=True)
@click.argument("root", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--storage-prefix", help="Read the series from object storage under this key "
              "prefix instead of from ROOT on disk (headers only: the first bytes of each file).")
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
def load_dicom_command(dataset: str, root: Path | None, storage_prefix: str | None,
                       register: bool, rules_file: Path | None, workers: int | None,
                       strict: bool, dry_run: bool, as_json: bool) -> None:
    """Load the DICOM series under ROOT into DATASET (any case; --register creates one
    missing from the datasets table): headers only, never pixels.

    Series are typed by the rules; every series not stored is reported with the reason. With
    --storage-prefix the files are read from the configured object storage instead. A folder
    holding no DICOM file at all is bad input (exit code 2, nothing written).
    """
    from load_db.engine import run_load  # loaders are imported only when a command runs

    check_registrable(dataset, register)
    rules_file = rules_file or _study_file(dataset)
    source = root_or_storage(root, storage_prefix, StorageTree)
    with load_errors_as_exit_codes():
        report = run_load(db.session, "load-dicom",
                          partial(_load_some_dicom, dataset=dataset, register=register,
                                  rules_file=rules_file, workers=workers, strict=strict),
                          source, dataset=dataset, dry_run=dry_run)
    if not dry_run:  # series whose files were uploaded before the load get their checksums
        record_image_checksums(db.session, get_storage(), dataset)
    echo_report(report, as_json)
