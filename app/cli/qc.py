"""`flask qc completeness|review|history`: what each visit is missing, and QC reviews of images."""
from __future__ import annotations

import json

import click
from sqlalchemy import select

from app.cli.errors import BadInput
from app.extensions import db
from app.models import Dataset, Image
from app.qc import REVIEW_ACTIONS, ReviewError, dataset_completeness, review_history, review_image


@click.group("qc")
def qc_group() -> None:
    """Quality control: completeness of visits, QC reviews of images."""


def _summary(visit: dict) -> str:
    missing = ", ".join(f"{tag} x{count}" for tag, count in visit["missing"].items()) or "-"
    repeated = ", ".join(f"{tag} +{count}" for tag, count in visit["repeated"].items()) or "-"
    unexpected = ", ".join(
        f"{entry['tag']} #{entry['series_number']} {entry['description']!r}"
        for entry in visit["unexpected"]) or "-"
    state = "complete" if visit["complete"] else "incomplete"
    return (f"{visit['subject']}\t{visit['visit']}\t{visit['site'] or '-'}\t{state}\t"
            f"missing: {missing}\trepeated: {repeated}\tunexpected: {unexpected}")


@qc_group.command("completeness")
@click.argument("dataset")
@click.option("--site", help="Only the visits of this site.")
@click.option("--complete/--incomplete", "complete", default=None,
              help="Only the complete visits (nothing missing), or only the incomplete ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def completeness_command(dataset: str, site: str | None, complete: bool | None,
                         as_json: bool) -> None:
    """Per visit of DATASET: the tags missing (with how many), repeated and unexpected."""
    dataset_id = db.session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
    if dataset_id is None:
        raise BadInput(f"unknown dataset {dataset!r}")
    report = dataset_completeness(db.session, dataset_id, complete=complete, site=site)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for visit in report["visits"]:
        click.echo(_summary(visit))
    for phantom in report["phantoms"]:
        tags = ", ".join(f"{tag} x{entry['count']}" for tag, entry in phantom["inventory"].items())
        click.echo(f"phantom {phantom['session']}\t{phantom['site'] or '-'}\t{tags}")


@qc_group.command("review")
@click.argument("image_id", type=int)
@click.argument("action", type=click.Choice(list(REVIEW_ACTIONS)))
@click.option("--comment", help="Why: needed to flag or blacklist.")
@click.option("--reviewer", required=True, help="Who reviews (kept in the history).")
def review_command(image_id: int, action: str, comment: str | None, reviewer: str) -> None:
    """Sign off, flag (with a comment), blacklist (with a reason) or reset image IMAGE_ID."""
    image = db.session.get(Image, image_id)
    if image is None:
        raise BadInput(f"no image with id {image_id}")
    try:
        review = review_image(db.session, image, action, reviewer, comment)
    except ReviewError as exc:
        raise BadInput(str(exc)) from exc
    db.session.commit()
    click.echo(f"image {image_id}: {review.state.value}")


@qc_group.command("history")
@click.argument("image_id", type=int)
def history_command(image_id: int) -> None:
    """Every review of image IMAGE_ID, oldest first: time, state, reviewer, comment."""
    for review in review_history(db.session, image_id):
        click.echo(f"{review.reviewed_at.isoformat()}\t{review.state.value}\t{review.author}\t"
                   f"{review.comment or ''}")
