"""`flask qc completeness|review|history`: what each visit is missing, and QC reviews of images."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import func, select

from app.cli.arguments import DatasetName, dataset_argument
from app.cli.errors import BadInput
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from app.models import Dataset, GoldStandard, HeaderDrift, Image, SeriesTag
from app.qc.completeness import dataset_completeness
from app.qc.reviews import REVIEW_ACTIONS, ReviewError, review_history, review_image


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
@dataset_argument()
@click.option("--site", help="Only the visits of this site.")
@click.option("--complete/--incomplete", "complete", default=None,
              help="Only the complete visits (nothing missing), or only the incomplete ones.")
@json_option
def completeness_command(dataset: str, site: str | None, complete: bool | None,
                         as_json: bool) -> None:
    """Per visit of DATASET: the tags missing (with how many), repeated and unexpected."""
    dataset_id = db.session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
    report = dataset_completeness(db.session, dataset_id, complete=complete, site=site)
    if as_json:
        echo_json(report)
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
@json_option
def history_command(image_id: int, as_json: bool) -> None:
    """Every review of image IMAGE_ID, oldest first: time, state, reviewer, comment.

    An image id that names no image is an error (exit code 2)."""
    if db.session.get(Image, image_id) is None:
        raise BadInput(f"no image with id {image_id}")
    reviews = review_history(db.session, image_id)
    if as_json:
        echo_json([{"reviewed_at": review.reviewed_at.isoformat(), "state": review.state.value,
                    "reviewer": review.author, "comment": review.comment}
                   for review in reviews])
        return
    for review in reviews:
        click.echo(f"{review.reviewed_at.isoformat()}\t{review.state.value}\t{review.author}\t"
                   f"{review.comment or ''}")


@qc_group.group("gold-standard")
def gold_standard_group() -> None:
    """Gold-standard headers per dataset, site and tag; images drifting from them."""


def _tolerances(pairs: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise BadInput(f"--tolerance {pair!r}: expected FIELD=NUMBER") from None
        if not name or out[name] < 0:
            raise BadInput(f"--tolerance {pair!r}: expected FIELD=NUMBER, 0 or more")
    return out


def _echo_standard(standard: GoldStandard, judged: int, as_json: bool = False) -> None:
    if as_json:
        echo_json({"tag": standard.tag, "site": standard.site or None,
                   "version": standard.version, "judged": judged,
                   "drifting": _drifted(standard)})
        return
    click.echo(f"gold standard {standard.tag} (site {standard.site or 'all'}) version "
               f"{standard.version}: {judged} images judged, {_drifted(standard)} drifting")


def _drifted(standard: GoldStandard) -> int:
    return db.session.scalar(select(func.count()).select_from(HeaderDrift).where(
        HeaderDrift.gold_standard_id == standard.id, HeaderDrift.drifted.is_(True)))


def _judged(standard: GoldStandard) -> int:
    return db.session.scalar(select(func.count()).select_from(HeaderDrift).where(
        HeaderDrift.gold_standard_id == standard.id))


@gold_standard_group.command("set")
@click.argument("image_id", type=int, required=False)
@click.option("--json", "json_file", type=click.Path(exists=True, dir_okay=False),
              help="Take the header from this JSON file (field -> value) instead of an image.")
@click.option("--dataset", type=DatasetName(), help="With --json: the dataset (any case).")
@click.option("--tag", help="With --json: the tag.")
@click.option("--site", default="", help="With --json: the site (default: every site).")
@click.option("--tolerance", "tolerances", multiple=True, metavar="FIELD=NUMBER",
              help="An absolute tolerance (repeatable; default: the previous version's).")
@click.option("--ignore", "ignored", multiple=True, metavar="FIELD",
              help="A field not compared (repeatable; default: the previous version's).")
def set_gold_standard(image_id: int | None, json_file: str | None, dataset: str | None,
                      tag: str | None, site: str, tolerances: tuple[str, ...],
                      ignored: tuple[str, ...]) -> None:
    """Make IMAGE_ID's header (or a JSON file's) the gold standard of its dataset, site and
    tag: a new version, against which every image of the tag is judged again."""
    from load_db.qc.drift import header_of, set_standard

    if (image_id is None) == (json_file is None):
        raise BadInput("give IMAGE_ID or --json FILE (with --dataset and --tag)")
    if image_id is not None:
        found = db.session.execute(select(SeriesTag, Image).join(
            Image, Image.id == SeriesTag.image_id).where(Image.id == image_id)).first()
        if found is None:
            raise BadInput(f"no image with id {image_id} and a study tag")
        series, image = found
        dataset_id, tag, site = series.dataset_id, series.tag, series.site
        header = header_of(image.metadata_json)
    else:
        if not dataset or not tag:
            raise BadInput("--json needs --dataset and --tag")
        dataset_id = db.session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
        try:
            header = json.loads(Path(json_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadInput(f"{json_file}: not a JSON file ({exc})") from exc
        if not isinstance(header, dict):
            raise BadInput(f"{json_file}: expected an object of field -> value")
    standard = set_standard(db.session, dataset_id, tag, site=site, header=header,
                            ignore=list(ignored) if ignored else None,
                            tolerances=_tolerances(tolerances) if tolerances else None,
                            source_image_id=image_id)
    db.session.commit()
    _echo_standard(standard, _judged(standard))


@gold_standard_group.command("tolerance")
@dataset_argument()
@click.argument("tag")
@click.argument("tolerances", nargs=-1, required=True, metavar="FIELD=NUMBER...")
@click.option("--site", default="", help="The site's standard (default: every site's).")
@json_option
def set_tolerance(dataset: str, tag: str, tolerances: tuple[str, ...], site: str,
                  as_json: bool) -> None:
    """Change tolerances of a standard: a new version, and its tag's images judged again."""
    from load_db.qc.drift import current_standards, set_standard

    dataset_id = db.session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
    previous = current_standards(db.session, dataset_id).get((site.upper(), tag))
    if previous is None:
        raise BadInput(f"no gold standard of tag {tag!r} in {dataset!r}")
    standard = set_standard(db.session, dataset_id, tag, site=site,
                            tolerances={**previous.tolerances, **_tolerances(tolerances)})
    db.session.commit()
    _echo_standard(standard, _judged(standard), as_json)
