"""`flask dataset list|examples|delete`: what is loaded, what `make run` loads, removing one."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import delete, func, select, update

from app.access import audit
from app.cli.arguments import dataset_argument
from app.cli.reporting import echo_json, json_option, when
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEventDataset,
    Dataset,
    DatasetCondition,
    GoldStandard,
    HeaderDrift,
    Image,
    ImageFile,
    LoadRun,
    PreprocessTaskFile,
    QcReview,
    Scanner,
    SeriesTag,
    StudyTag,
    Subject,
    Visit,
)
from app.models.base import utcnow
from globals import DATA_DIR


@click.group("dataset")
def dataset_group() -> None:
    """List or delete datasets."""


def _counts(model: type, dataset_column) -> dict[int, int]:
    """{dataset id: rows of `model`} (rows soft-deleted themselves included)."""
    rows = db.session.execute(select(dataset_column, func.count()).group_by(dataset_column))
    return dict(rows.all())


@dataset_group.command("list")
@json_option
def list_datasets(as_json: bool) -> None:
    """List datasets: designation, subjects, visits, images, last load, deleted."""
    subjects = _counts(Subject, Subject.dataset_id)
    visits = dict(db.session.execute(select(Subject.dataset_id, func.count(Visit.id))
                                     .join(Visit, Visit.subject_id == Subject.id)
                                     .group_by(Subject.dataset_id)).all())
    images = _counts(Image, Image.dataset_id)
    last_load = dict(db.session.execute(
        select(LoadRun.dataset_id, func.max(LoadRun.finished_at))
        .where(LoadRun.dry_run.is_(False)).group_by(LoadRun.dataset_id)).all())
    rows = [{"designation": dataset.designation, "subjects": subjects.get(dataset.id, 0),
             "visits": visits.get(dataset.id, 0), "images": images.get(dataset.id, 0),
             "last_load": when(last_load.get(dataset.id)), "deleted": when(dataset.deleted_at)}
            for dataset in db.session.scalars(select(Dataset).order_by(Dataset.designation))]
    if as_json:
        echo_json(rows)
        return
    click.echo("designation\tsubjects\tvisits\timages\tlast load\tdeleted")
    for row in rows:
        click.echo("\t".join(str(value if value is not None else "-") for value in row.values()))



@dataset_group.command("examples")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=DATA_DIR,
              show_default=True, help="Where the default data folders are.")
@json_option
def list_examples(data_root: Path, as_json: bool) -> None:
    """Print `DESIGNATION<TAB>FOLDER` for every dataset package with example data (`make run`
    loads and uploads each)."""
    from load_db.datasets import with_example_data

    examples = {package.designation: str(package.data_dir(data_root))
                for package in with_example_data(data_root)}
    if as_json:
        echo_json(examples)
        return
    for designation, folder in examples.items():
        click.echo(f"{designation}\t{folder}")


@dataset_group.command("delete")
@dataset_argument()
@click.option("--purge", is_flag=True,
              help="Remove the dataset and every row of it instead of marking it deleted.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation of --purge.")
def delete_dataset(dataset: str, purge: bool, yes: bool) -> None:
    """Mark DATASET (any case) deleted; with --purge, remove it and all its rows."""
    dataset = db.session.scalar(select(Dataset).where(Dataset.designation == dataset))
    designation = dataset.designation
    if not purge:
        dataset.deleted_at = dataset.deleted_at or utcnow()
        audit.record(AuditAction.DATASET_DELETE, audit.cli_actor(), datasets=[dataset],
                     details={"dataset": designation, "purge": False})
        db.session.commit()
        click.echo(f"dataset {designation!r} marked deleted (its rows are kept; --purge removes "
                   "them)")
        return
    if not yes:
        click.confirm(f"Remove dataset {designation!r} and all its subjects, visits and images?",
                      abort=True)
    removed = _purge(dataset.id)
    # The entry names the dataset in its details only: its row (and its links) are gone.
    audit.record(AuditAction.DATASET_DELETE, audit.cli_actor(),
                 details={"dataset": designation, "purge": True, "removed": removed})
    db.session.commit()
    click.echo(f"dataset {designation!r} removed: "
               + ", ".join(f"{count} {table}" for table, count in removed.items()))


def _purge(dataset_id: int) -> dict[str, int]:
    """Delete every row of a dataset, children first; its load runs are kept, unlinked."""
    images = select(Image.id).where(Image.dataset_id == dataset_id)
    subjects = select(Subject.id).where(Subject.dataset_id == dataset_id)
    statements = {
        "qc_review": delete(QcReview).where(QcReview.image_id.in_(images)),
        "header_drift": delete(HeaderDrift).where(HeaderDrift.image_id.in_(images)),
        "gold_standard": delete(GoldStandard).where(GoldStandard.dataset_id == dataset_id),
        "series_tag": delete(SeriesTag).where(SeriesTag.dataset_id == dataset_id),
        "study_tag": delete(StudyTag).where(StudyTag.dataset_id == dataset_id),
        "preprocess_task_file": delete(PreprocessTaskFile)
        .where(PreprocessTaskFile.image_id.in_(images)),
        "image_file": delete(ImageFile).where(ImageFile.image_id.in_(images)),
        "image": delete(Image).where(Image.dataset_id == dataset_id),
        "visit": delete(Visit).where(Visit.subject_id.in_(subjects)),
        "subject": delete(Subject).where(Subject.dataset_id == dataset_id),
        "scanner": delete(Scanner).where(Scanner.dataset_id == dataset_id),
        "dataset_condition": delete(DatasetCondition)
        .where(DatasetCondition.dataset_id == dataset_id),
    }
    removed = {table: db.session.execute(statement).rowcount
               for table, statement in statements.items()}
    db.session.execute(update(LoadRun).where(LoadRun.dataset_id == dataset_id)
                       .values(dataset_id=None))
    # Audit entries are kept, unlinked (each names what it did in its details).
    db.session.execute(delete(AuditEventDataset)
                       .where(AuditEventDataset.dataset_id == dataset_id))
    db.session.execute(delete(Dataset).where(Dataset.id == dataset_id))
    return removed
