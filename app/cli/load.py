"""`flask load DATASET` (or `--all-examples`): read a dataset once, write it in one transaction."""
from __future__ import annotations

from pathlib import Path

import click

from app.cli.arguments import dataset_argument
from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_json, echo_report, json_option
from app.extensions import db
from app.storage import get_storage
from globals import DATA_DIR
from load_db.datasets import dataset_loader, find_dataset, with_example_data
from load_db.engine import run_load
from load_db.engine.progress import progress_bar
from load_file.checksums import record_image_checksums


@click.command("load")
@dataset_argument(required=False)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the dataset's files (default: data/<its DATA_FOLDER>).")
@click.option("--all-examples", is_flag=True,
              help="Load every dataset whose example data is under --data-root, one by one.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=DATA_DIR,
              show_default=True, help="Where the default data folders are.")
@click.option("--dry-run", is_flag=True, help="Check and count everything, then roll back.")
@click.option("--strict", is_flag=True,
              help="Stop (exit 2, nothing written) at a diagnosis label outside the dataset's "
                   "mapping, and at bad input its reader would otherwise leave out and report "
                   "(readers with a strict mode: OMI-DB).")
@json_option
def load_command(dataset: str | None, data_dir: Path | None, all_examples: bool,
                 data_root: Path, dry_run: bool, strict: bool, as_json: bool) -> None:
    """Load DATASET (any case) in one transaction: read every input file once, then write its
    subjects, visits and images (idempotent). With --all-examples, load every dataset that has
    example data, each in its own transaction."""
    if all_examples == (dataset is not None):
        raise click.UsageError("give either DATASET or --all-examples (exactly one)")
    if all_examples and data_dir is not None:
        raise click.UsageError("--data-dir needs DATASET (use --data-root with --all-examples)")
    with load_errors_as_exit_codes():
        if all_examples:
            packages = [(package, package.data_dir(data_root))
                        for package in with_example_data(data_root)]
        else:
            package = find_dataset(dataset)
            packages = [(package, data_dir or package.data_dir(data_root))]
        reports = {}
        # One bar over the datasets of --all-examples; each load shows its own steps.
        for package, source in progress_bar(packages, desc="datasets", unit=" datasets",
                                            min_total=2):
            # --all-examples --strict: strict for every dataset whose reader has a strict mode
            # (the examples carry labels outside their mappings on purpose, to be reported).
            strictly = strict and (package.has_strict_mode or not all_examples)
            reports[package.designation] = run_load(
                db.session, f"load {package.designation}",
                dataset_loader(package, strict=strictly), source,
                dataset=package.designation, dry_run=dry_run)
            if not dry_run:  # images whose files were uploaded before the load get checksums
                record_image_checksums(db.session, get_storage(), package.designation)
    if not all_examples:
        echo_report(*reports.values(), as_json)
    elif as_json:
        echo_json({name: report.to_dict() for name, report in reports.items()})
    else:
        for name, report in reports.items():
            click.echo(f"{name}:\n{report.summary()}")
