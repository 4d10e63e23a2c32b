"""`flask harmonise DATASET [--dry-run]`: re-apply a dataset's current mapping file to the
labels and raw values stored, without reading its sources."""
from __future__ import annotations

from pathlib import Path

import click

from app.cli.arguments import dataset_argument
from app.cli.errors import load_errors_as_exit_codes
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from load_db.datasets import find_dataset
from load_db.engine.errors import LoadError
from load_db.engine.mapping import read_mapping
from load_db.harmonise import HarmoniseResult, harmonise_dataset

COLUMNS = ("kind", "subject", "visit", "name", "old", "new")


@click.command("harmonise")
@dataset_argument()
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
    # A dataset loaded by `flask load-bids` has no package: --mapping names its file.
    if mapping_file is None:
        try:
            mapping_file = find_dataset(dataset).mapping
        except LoadError as exc:
            raise click.ClickException(f"{exc}: give its mapping file with --mapping") from None
    with load_errors_as_exit_codes():
        mapping = read_mapping(mapping_file)
        try:
            result = harmonise_dataset(db.session, dataset, mapping, dry_run=dry_run)
        except Exception:
            db.session.rollback()
            raise
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    _echo(result, as_json)


def _echo(result: HarmoniseResult, as_json: bool) -> None:
    if as_json:
        echo_json(result.to_dict())
        return
    for change in result.changes:
        click.echo("\t".join("" if getattr(change, column) is None else str(getattr(change, column))
                             for column in COLUMNS))
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(result.counts().items()))
    verb = "would change" if not result.applied else "changed"
    click.echo(f"{result.dataset}: mapping {result.mapping_version[:12]} {verb} "
               f"{len(result.changes)} rows ({counts or 'none'})"
               + (f"; {result.unmapped} assessments whose column it no longer maps were left"
                  if result.unmapped else "")
               + (f"; {sum(result.unmapped_labels.values())} rows with a label it does not "
                  "map, left without a condition: " + ", ".join(
                      f"{label!r} ({count})" for label, count in result.unmapped_labels.items())
                  if result.unmapped_labels else ""))
