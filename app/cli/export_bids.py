"""`flask export-bids`: a saved cohort, or the images of an /images query, as a BIDS dataset."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from app.access import audit
from app.api.cohorts import load_cohort_query
from app.bids_export import BidsExport, ExportError, write_directory
from app.bids_export.dataset import plan_cohort, plan_query
from app.extensions import db
from app.models import AuditAction, Cohort
from app.storage import StorageError, get_storage

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """No such cohort, a bad query or a destination that cannot be written: exit code 2."""

    exit_code = EXIT_BAD_INPUT


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
        problems = "; ".join(f"{name}: {' '.join(map(str, messages))}"
                             for name, messages in sorted(error.normalized_messages().items()))
        raise BadInput(f"invalid query: {problems}") from error
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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def export_bids_command(cohort_or_query: str, dest: Path, link: bool, as_json: bool) -> None:
    """Write a cohort (its id) or the images of a query (`dataset=OASIS&type=T1`) as a BIDS
    dataset in DEST, a new or empty folder.

    Images that cannot be exported (a DICOM series not converted yet, a DWI without
    .bval/.bvec, ...) are left out and listed in the summary and in the dataset's README.
    Exits 2 for a missing cohort, a bad query or a DEST that is not empty.
    """
    export, details = _plan(cohort_or_query)
    try:
        write_directory(export, dest, get_storage(), link=link, progress=sys.stderr.isatty())
    except ExportError as exc:
        raise BadInput(str(exc)) from exc
    except StorageError as exc:
        raise click.ClickException(f"export failed: {exc}") from exc
    audit.record(AuditAction.DOWNLOAD, audit.cli_actor(),
                 datasets=audit.datasets_named({image["dataset"] for image in export.images}),
                 image_ids=[image["id"] for image in export.images],
                 details={"format": "bids", **details})
    db.session.commit()
    click.echo(json.dumps(export.summary(), indent=2, sort_keys=True) if as_json
               else _summary_text(export, dest))
