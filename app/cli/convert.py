"""`flask convert DATASET`: convert the dataset's DICOM images to NIfTI with dcm2niix."""
from __future__ import annotations

import os
import socket

import click

from app.cli.arguments import dataset_argument
from app.cli.reporting import echo_json, json_option


@click.command("convert")
@dataset_argument()
@click.option("--limit", type=click.IntRange(min=1),
              help="Convert at most this many images (default: all not yet converted).")
@click.option("--worker", help="The name this run claims images under (default: host:pid).")
@json_option
def convert_command(dataset: str, limit: int | None, worker: str | None,
                    as_json: bool) -> None:
    """Convert DATASET's DICOM images not yet converted into NIfTI + JSON sidecar (+ .bval and
    .bvec for diffusion) with dcm2niix, stored beside each series.

    Images are claimed one at a time (task "dcm2niix"), so several runs, on one machine or
    many, convert in parallel and never one image twice; a second run converts nothing.
    Progress goes to a terminal's stderr, the report to stdout. Exit code 2 for an unknown
    dataset, 1 when an image failed to convert.
    """
    from app.extensions import db
    from app.storage import get_storage
    from load_db.dicom.convert import convert_dataset
    from load_db.engine.progress import progress_bar

    progress = progress_bar(desc="converting", unit=" images")

    def advance(done: int, total: int) -> None:
        progress.total = max(total, done)
        progress.update(done - progress.n)

    try:
        report = convert_dataset(db.session, get_storage(), dataset,
                                 worker or f"{socket.gethostname()}:{os.getpid()}",
                                 limit=limit, on_progress=advance)
    finally:
        progress.close()
    if as_json:
        echo_json(report.as_dict())
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
