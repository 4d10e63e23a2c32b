"""`flask convert DATASET`: convert the dataset's DICOM images to NIfTI with dcm2niix."""
from __future__ import annotations

import json
import os
import socket
import sys

import click

from app.cli.reporting import json_option


class UnknownDataset(click.ClickException):
    """A designation that names no dataset: bad input, exit code 2."""

    exit_code = 2


@click.command("convert")
@click.argument("designation")
@click.option("--limit", type=click.IntRange(min=1),
              help="Convert at most this many images (default: all not yet converted).")
@click.option("--worker", help="The name this run claims images under (default: host:pid).")
@json_option
def convert_command(designation: str, limit: int | None, worker: str | None,
                    as_json: bool) -> None:
    """Convert DATASET's DICOM images not yet converted into NIfTI + JSON sidecar (+ .bval and
    .bvec for diffusion) with dcm2niix, stored beside each series.

    Images are claimed one at a time (task "dcm2niix"), so several runs, on one machine or
    many, convert in parallel and never one image twice; a second run converts nothing.
    Progress goes to a terminal's stderr, the report to stdout. Exit code 2 for an unknown
    dataset, 1 when an image failed to convert.
    """
    from tqdm import tqdm

    from app.extensions import db
    from app.storage import get_storage
    from load_db.dicom.convert import convert_dataset

    progress = tqdm(desc="converting", unit="image", disable=not sys.stderr.isatty(),
                    leave=False)

    def advance(done: int, total: int) -> None:
        progress.total = max(total, done)
        progress.update(done - progress.n)

    try:
        report = convert_dataset(db.session, get_storage(), designation,
                                 worker or f"{socket.gethostname()}:{os.getpid()}",
                                 limit=limit, on_progress=advance)
    except LookupError as exc:
        raise UnknownDataset(str(exc)) from None
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        for item in report.failed:
            click.echo(f"failed: image {item['image_id']}: {item['error']}")
        for item in report.disagreements:
            click.echo(f"dcm2niix guesses {item['BidsGuess']} for image {item['image_id']} "
                       f"({item['path']}), typed {item['type']} by the rules")
        if report.evidence_restored:
            click.echo(f"typing evidence put back (lost by a load again): "
                       f"{report.evidence_restored}")
        click.echo(f"converted: {len(report.converted)}, already converted: {report.already}, "
                   f"failed: {len(report.failed)}")
    if report.failed:
        raise click.exceptions.Exit(1)
