"""`flask names DATASET [--manual FILE]`: predicted RADIFOX-style names, and manual ones."""
from __future__ import annotations

from pathlib import Path

import click


class BadNames(click.ClickException):
    """A manual-names file or a dataset that cannot be used: bad input, exit code 2."""

    exit_code = 2


@click.command("names")
@click.argument("designation")
@click.option("--manual", "manual_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="CSV with columns path (an image's storage key) and name: names given by "
                   "hand, which take precedence over predictions (both are kept).")
def names_command(designation: str, manual_file: Path | None) -> None:
    """Predict the type name of every image of DATASET from its sidecar or header; with
    --manual, set names given by hand too. One transaction: a bad file changes nothing."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dataset
    from app.names import NameFilterError
    from app.names.store import apply_manual_names, predict_names, read_manual_names

    if db.session.scalar(select(Dataset.id).where(Dataset.designation == designation)) is None:
        raise BadNames(f"unknown dataset {designation}")
    try:
        predicted = predict_names(db.session, designation)
        manual = 0
        if manual_file is not None:
            rows = read_manual_names(manual_file)
            try:
                manual = apply_manual_names(db.session, designation, rows)
            except NameFilterError as exc:
                raise NameFilterError(f"{manual_file}, {exc}") from None
    except NameFilterError as exc:
        db.session.rollback()
        raise BadNames(f"{exc} (nothing was written)") from None
    db.session.commit()
    click.echo(f"predicted names changed: {predicted}, manual names set: {manual}")
