"""`flask previews DATASET`: make the QA previews missing for a dataset's NIfTI files."""
from __future__ import annotations

import click


class UnknownDataset(click.ClickException):
    """A designation that names no dataset: bad input, exit code 2."""

    exit_code = 2


@click.command("previews")
@click.argument("designation")
def previews_command(designation: str) -> None:
    """Make the missing PNG previews of DATASET's NIfTI images and derived files.

    Prints one line per failure and a summary; exit code 1 if any preview failed.
    """
    from app.extensions import db
    from app.previews import make_missing_previews
    from app.storage import get_storage

    try:
        report = make_missing_previews(db.session, get_storage(), designation)
    except LookupError as exc:
        raise UnknownDataset(str(exc)) from None
    for problem in report.failed:
        click.echo(f"failed: {problem}")
    click.echo(f"previews made: {report.made}, already present: {report.present}, "
               f"failed: {len(report.failed)}")
    if report.failed:
        raise click.exceptions.Exit(1)
