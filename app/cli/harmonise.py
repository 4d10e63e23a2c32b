"""`flask harmonise DATASET [--dry-run]`: re-apply a dataset's current mapping file to the
labels and raw values stored, without reading its sources."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import json_option
from app.extensions import db
from app.models import Dataset
from load_db.datasets import find_dataset
from load_db.engine.errors import LoadError
from load_db.engine.mapping import read_mapping
from load_db.harmonise import HarmoniseResult, harmonise_dataset

COLUMNS = ("kind", "subject", "visit", "name", "old", "new")


@click.command("harmonise")
@click.argument("dataset")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The mapping file to apply (default: the dataset package's "
                                 "mapping.yaml; a dataset loaded by `flask load-bids` has no "
                                 "package: give its file).")
@click.option("--dry-run", is_flag=True,
              help="List the rows the mapping would change; change nothing.")
@json_option
def harmonise_command(dataset: str, mapping_file: Path | None, dry_run: bool,
                      as_json: bool) -> None:
    """Re-map DATASET's stored condition labels and assessment raw values with its current
    mapping file: list the changed rows (kind, subject, visit, measure or condition, old value,
    new value), then write them and the mapping's version (audited), unless --dry-run."""
    designation = dataset
    # A dataset loaded by `flask load-bids` has no package: --mapping names its file.
    if mapping_file is None or not _stored(dataset):
        try:
            package = find_dataset(dataset)
        except LoadError as exc:  # not bad input: a name the command does not know
            raise click.ClickException(str(exc)) from None
        designation, mapping_file = package.designation, mapping_file or package.mapping
    with load_errors_as_exit_codes():
        mapping = read_mapping(mapping_file)
        try:
            result = harmonise_dataset(db.session, designation, mapping, dry_run=dry_run)
        except Exception:
            db.session.rollback()
            raise
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    _echo(result, as_json)


def _stored(designation: str) -> bool:
    return db.session.scalar(select(Dataset.id).where(Dataset.designation == designation)) \
        is not None


def _echo(result: HarmoniseResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
        return
    for change in result.changes:
        click.echo("\t".join("" if getattr(change, column) is None else str(getattr(change, column))
                             for column in COLUMNS))
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(result.counts().items()))
    verb = "would change" if not result.applied else "changed"
    click.echo(f"{result.dataset}: mapping {result.mapping_version[:12]} {verb} "
               f"{len(result.changes)} rows ({counts or 'none'})"
               + (f"; {result.unmapped} assessments whose column it no longer maps were left"
                  if result.unmapped else ""))
