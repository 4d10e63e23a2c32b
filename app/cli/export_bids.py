"""`flask export-bids`: a saved cohort, or the images of an /images query, as a BIDS dataset."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from app.access import audit
from app.api.cohorts import load_cohort_query
from app.bids_export import BidsExport, ExportError, write_directory
from app.bids_export.dataset import plan_cohort, plan_query
from app.cli.errors import BadInput
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from app.http.errors import named_problems
from app.models import AuditAction, Cohort
from app.storage import StorageError, get_storage


def _plan(cohort_or_query: str) -> tuple[BidsExport, dict[str, object]]:
    """The export of a cohort id or a query string, and what the audit log says of it."""
    storage = get_storage()
    if cohort_or_query.isdigit():
        cohort = db.session.get(Cohort, int(cohort_or_query))
        if cohort is None:
            raise BadInput(f"no cohort with id {cohort_or_query}")
        return plan_cohort(cohort, storage), {"cohort_id": cohort.id}
    query = parse_qs(cohort_or_query, keep_blank_values=True)
    if not query:
        raise BadInput(f"{cohort_or_query!r} is neither a cohort id nor a query string "
                       "(e.g. dataset=OASIS&type=T1)")
    try:
        args = load_cohort_query(query)
    except ValidationError as error:
        problems = {}
        for name, found in sorted(error.normalized_messages().items()):
            problems.update(named_problems(name, found))
        raise BadInput("invalid query: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in problems.items())) from error
    return plan_query(cohort_or_query, args, storage), {"query": query}


def _summary_text(export: BidsExport, dest: Path) -> str:
    lines = [f"{dest}: {len(export.images)} image(s) of {export.subjects} participant(s) in "
             f"{export.sessions} session(s); {len(export.left_out)} left out"]
    lines += [f"  left out: image {item.image_id} ({item.dataset}: {item.path}): {item.reason}"
              for item in export.left_out]
    return "\n".join(lines)


@click.command("export-bids")
@click.argument("cohort_or_query")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--link", is_flag=True,
              help="Symbolic links to the files of the local store instead of copies.")
@json_option
@with_appcontext
def export_bids_command(cohort_or_query: str, dest: Path, link: bool, as_json: bool) -> None:
    """Write a cohort (its id) or the images of a query (`dataset=OASIS&type=T1`) as a BIDS
    dataset in DEST, a new or empty folder.

    Images that cannot be exported (a DICOM series not converted yet, a DWI without
    .bval/.bvec, ...) are left out and listed in the summary and in the dataset's README.
    Exits 2 for a missing cohort, a bad query or a DEST that is not empty.
    """
    from load_db.engine.progress import progress_bar

    export, details = _plan(cohort_or_query)
    try:
        write_directory(export, dest, get_storage(), link=link,
                        progress=lambda files: progress_bar(files, desc="files", unit=" files"))
    except ExportError as exc:
        raise BadInput(str(exc)) from exc
    except StorageError as exc:
        raise click.ClickException(f"export failed: {exc}") from exc
    audit.record(AuditAction.DOWNLOAD, audit.cli_actor(),
                 datasets=audit.datasets_named({image["dataset"] for image in export.images}),
                 image_ids=[image["id"] for image in export.images],
                 details={"format": "bids", **details})
    db.session.commit()
    if as_json:
        echo_json(export.summary())
    else:
        click.echo(_summary_text(export, dest))
