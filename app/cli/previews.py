"""`flask previews DATASET`: make the QA previews missing for a dataset's NIfTI files."""
from __future__ import annotations

import click

from app.cli.arguments import dataset_argument
from app.cli.reporting import echo_json, json_option


@click.command("previews")
@dataset_argument()
@json_option
def previews_command(dataset: str, as_json: bool) -> None:
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
    from load_db.engine.progress import progress_bar

    try:
        report = make_missing_previews(db.session, get_storage(), dataset, 
                                       progress=lambda files: progress_bar(
                                           files, desc="previews", unit=" files"))
    except StorageError as exc:  # unreachable or failing storage: no file can be read
        raise click.ClickException(f"object storage failed: {exc}") from None
    if as_json:
        echo_json({"made": report.made, "present": report.present, "failed": report.failed})
    else:
        for problem in report.failed:
            click.echo(f"failed: {problem}")
        click.echo(f"previews made: {report.made}, already present: {report.present}, "
                   f"failed: {len(report.failed)}")
    if report.failed and not (report.made or report.present):
        raise click.exceptions.Exit(1)
