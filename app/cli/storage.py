"""`flask upload` and `flask check-storage`: put a dataset tree in object storage, verify it."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.arguments import dataset_argument, resolve_dataset
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from app.storage import StorageError, check_key, get_storage
from app.storage.sources import UnsafeEntry
from load_file.check import compare_tree
from load_file.checksums import compare_image_checksums, record_image_checksums
from load_file.upload import DEFAULT_WORKERS, dataset_prefix, upload_tree

EXIT_BAD_INPUT = 2


class BadSource(click.ClickException):
    """The source folder holds what must not be stored (a strict upload): exit code 2."""

    exit_code = EXIT_BAD_INPUT


def _prefix_for(dataset: str, prefix: str | None) -> str:
    """The --prefix given (the database is then not read), else the storage prefix of the
    dataset (any case) from the database."""
    if prefix is not None:
        if prefix.strip("/") and check_key(prefix.strip("/")):
            raise click.BadParameter(f"{prefix!r} cannot be a key prefix: "
                                     f"{check_key(prefix.strip('/'))}", param_hint="--prefix")
        return prefix
    return dataset_prefix(db.session, resolve_dataset(dataset))


source_dir_argument = click.argument(
    "source_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
prefix_option = click.option(
    "--prefix", help="Key prefix in storage (default: the dataset's storage prefix).")


@click.command("upload")
@dataset_argument(deferred=True)
@source_dir_argument
@prefix_option
@click.option("--workers", type=click.IntRange(min=1), default=DEFAULT_WORKERS, show_default=True,
              help="Files uploaded in parallel.")
@click.option("--multipart-threshold", type=click.IntRange(min=1),
              help="Upload files larger than this many bytes in parts "
                   "(default: the MULTIPART_THRESHOLD setting).")
@click.option("--strict", is_flag=True,
              help="Stop, uploading nothing, at a symlink leading out of SOURCE_DIR, a symlink "
                   "loop, an unreadable folder or a FIFO (default: report and skip them).")
@click.option("--dry-run", is_flag=True, help="Compare with the storage, upload nothing.")
@click.option("--deidentify", is_flag=True,
              help="Upload de-identified copies of the DICOM files (PS3.15 Basic Profile), "
                   "never the originals.")
@json_option
@with_appcontext
def upload_command(dataset: str, source_dir: Path, prefix: str | None, workers: int,
                   multipart_threshold: int | None, strict: bool, dry_run: bool,
                   deidentify: bool, as_json: bool) -> None:
    """Upload the files of SOURCE_DIR as dataset DATASET; re-run to resume.

    Hidden files and archives are left out; every file is stored as it is. Files already
    stored with the same size and checksum are skipped. The checksums of the dataset's images
    already loaded are recorded in the database (unless --prefix is given: the database is then
    not read). Exits 1 if any file failed. A progress bar shows on stderr (on a terminal).
    """
    storage = get_storage()
    if multipart_threshold is not None:
        storage.multipart_threshold = multipart_threshold
    if deidentify:
        from load_file.deidentify import upload_deidentified

        deidentified, report = upload_deidentified(
            storage, source_dir, _prefix_for(dataset, prefix), workers=workers, dry_run=dry_run)
        if as_json:
            echo_json({"deidentify": deidentified.to_dict(), **report.to_dict()})
        else:
            click.echo(deidentified.summary())
            click.echo(report.summary())
        if deidentified.failed or not report.ok:
            raise click.exceptions.Exit(1)
        return
    try:
        report = upload_tree(storage, source_dir, _prefix_for(dataset, prefix), workers=workers,
                             dry_run=dry_run, strict=strict)
    except UnsafeEntry as exc:
        raise BadSource(f"{source_dir / exc.path}: {exc.reason} (nothing was uploaded)") from exc
    except (StorageError, OSError) as exc:
        raise click.ClickException(f"upload failed: {exc}") from exc
    if not dry_run and prefix is None:  # with --prefix the database is not read
        report.checksums_recorded = record_image_checksums(
            db.session, storage, resolve_dataset(dataset), report.stored)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command("check-storage")
@dataset_argument(deferred=True)
@source_dir_argument
@prefix_option
@json_option
@with_appcontext
def check_storage_command(dataset: str, source_dir: Path, prefix: str | None,
                          as_json: bool) -> None:
    """Compare SOURCE_DIR, and the image checksums of DATASET, with the stored objects.

    Prints each difference (missing, extra, size, checksum, unverified; for the images of the
    database, unless --prefix is given: unstored, unrecorded, recorded) and exits 1 if any.
    """
    try:
        storage = get_storage()
        differences = compare_tree(storage, source_dir, _prefix_for(dataset, prefix))
        if prefix is None:  # with --prefix the database is not read
            differences += compare_image_checksums(db.session, storage,
                                                   resolve_dataset(dataset))
    except (StorageError, OSError) as exc:
        raise click.ClickException(f"check failed: {exc}") from exc
    if as_json:
        echo_json([{"kind": difference.kind, "key": difference.key, "detail": difference.detail}
                   for difference in differences])
    else:
        for difference in differences:
            click.echo(str(difference))
        click.echo(f"{len(differences)} difference(s)")
    if differences:
        raise click.exceptions.Exit(1)
