"""`flask previews DATASET`: make the QA previews missing for a dataset's NIfTI files."""
from __future__ import annotations

import click


class UnknownDataset(click.ClickException):
    """A designation that names no dataset: bad input, exit code 2."""

    exit_code = 2


@click.command("previews")
@click.argument("designation")
def previews_command(designation: str) -> None:
    """Make the missing (or out of date) PNG previews of DATASET's NIfTI images and derived
    files.

    A file that cannot be previewed (unreadable, truncated, missing from storage) is reported
    on a line of its own and skipped. Exit code 0 when at least one preview was made or is
    current (or none failed); 1 only when every preview tried failed, which points at storage
    or the whole dataset rather than a few bad files.
    """
    from app.extensions import db
    from app.files.previews import make_missing_previews
    from app.storage import StorageError, get_storage

    try:
        report = make_missing_previews(db.session, get_storage(), designation)
    except LookupError as exc:
        raise UnknownDataset(str(exc)) from None
    except StorageError as exc:  # unreachable or failing storage: no file can be read
        raise click.ClickException(f"object storage failed: {exc}") from None
    for problem in report.failed:
        click.echo(f"failed: {problem}")
    click.echo(f"previews made: {report.made}, already present: {report.present}, "
               f"failed: {len(report.failed)}")
    if report.failed and not (report.made or report.present):
        raise click.exceptions.Exit(1)
