"""Upload a dataset tree to object storage: parallel, retried, resumable, with a report.

Run as `flask upload DATASET SOURCE_DIR` or `python load_file/upload.py DATASET SOURCE_DIR`.
A file whose object already exists with the same size and SHA-256 is skipped, so an interrupted
upload is resumed by running it again.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.models import Dataset
from app.storage import ObjectNotFound, Storage, StorageError, TransientStorageError
from app.storage.sources import UnsafeEntry
from load_db.engine.progress import progress_bar
from load_file.tree import SourceFile, plan_tree, prepared

log = logging.getLogger(__name__)

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
DEFAULT_WORKERS = 4
DEFAULT_ATTEMPTS = 3


class UnknownDataset(LookupError):
    """No dataset has that designation."""


@dataclass
class UploadReport:
    """What an upload did: keys uploaded, skipped (already present), failed, files ignored.

    `refused` holds {relative path: reason} of the entries that are not files of the dataset
    (a symlink leading out of the folder, a FIFO, ...): never uploaded.
    `stored` holds {key: (size, sha256)} of every object now in storage as it should be (the
    uploaded and the skipped ones; empty on a dry run), for the database's image checksums.
    """

    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    stored: dict[str, tuple[int, str]] = field(default_factory=dict)
    dry_run: bool = False
    checksums_recorded: int | None = None  # images of the database given their checksum

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """The report as `flask upload --json` prints it (every field but `stored`)."""
        return {"uploaded": self.uploaded, "skipped": self.skipped, "failed": self.failed,
                "ignored": self.ignored, "refused": self.refused, "dry_run": self.dry_run,
                "checksums_recorded": self.checksums_recorded}

    def summary(self) -> str:
        """Return the report as lines of text, failures with their reasons."""
        verb = "to upload" if self.dry_run else "uploaded"
        lines = [f"{verb}: {len(self.uploaded)}, skipped (already present): {len(self.skipped)}, "
                 f"ignored (hidden files, archives): {len(self.ignored)}, "
                 f"failed: {len(self.failed)}"]
        lines += [f"  failed {key}: {reason}" for key, reason in sorted(self.failed.items())]
        if self.refused:
            lines.append(f"refused (not files of the dataset): {len(self.refused)}")
            lines += [f"  refused {path}: {reason}" for path, reason in self.refused.items()]
        if self.checksums_recorded is not None:
            lines.append(f"image checksums recorded: {self.checksums_recorded}")
        return "\n".join(lines)


def with_retries(action: Callable[[], T], *, attempts: int, backoff: float, what: str) -> T:
    """Run `action`, again after a pause on a transient error, up to `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except TransientStorageError as exc:
            if attempt == attempts:
                raise
            delay = backoff * 2 ** (attempt - 1)
            log.warning("%s: %s (attempt %d of %d, retrying in %.1fs)", what, exc, attempt,
                        attempts, delay)
            time.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


def _upload_one(storage: Storage, item: SourceFile, remote_size: int | None, *, dry_run: bool,
                attempts: int, backoff: float) -> tuple[str, int, str]:
    """Store one file unless it is already there: ("uploaded" or "skipped", size, sha256)."""
    with prepared(item) as content:
        if remote_size == content.size:
            # Same size: only the recorded checksum can tell an identical object from another.
            try:
                remote = with_retries(lambda: storage.stat(item.key), attempts=attempts,
                                      backoff=backoff, what=item.key)
            except ObjectNotFound:
                remote = None
            if remote is not None and remote.sha256 == content.sha256:
                return "skipped", content.size, content.sha256
        if not dry_run:
            with_retries(lambda: storage.put(item.key, content.path, sha256=content.sha256),
                         attempts=attempts, backoff=backoff, what=item.key)
        return "uploaded", content.size, content.sha256


def upload_tree(storage: Storage, source_dir: Path, prefix: str, *, workers: int = DEFAULT_WORKERS,
                dry_run: bool = False, strict: bool = False, attempts: int = DEFAULT_ATTEMPTS,
                backoff: float = 1.0, progress: bool | None = None) -> UploadReport:
    """Upload every file of `source_dir` under `prefix`, skipping those already present.

    Parameters
    ----------
    storage : the target storage.
    source_dir : the dataset tree on disk.
    prefix : the key prefix of the dataset ("" for the bucket root).
    workers : files uploaded at once.
    dry_run : compare with the storage, upload nothing; `uploaded` lists what would be sent.
    strict : raise UnsafeEntry, before uploading anything, at the first entry that is not a
        file of the dataset (a symlink out of it, a FIFO, ...); by default they are reported.
    attempts, backoff : tries per request on transient errors, and the first pause (doubling).
    progress : show a progress bar (None: only on a terminal).

    Returns
    -------
    UploadReport. A file that fails (after retries) is reported, and the others still go.
    """
    plan = plan_tree(source_dir, prefix, strict=strict)
    items = plan.files
    report = UploadReport(ignored=plan.ignored, refused=plan.refused, dry_run=dry_run)
    listing_prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    # One listing answers "is it there, and how big" for every file: no request per file.
    existing = with_retries(lambda: {info.key: info.size for info in storage.list(listing_prefix)},
                            attempts=attempts, backoff=backoff, what=f"list {listing_prefix!r}")
    log.info("%s: %d files to compare with %d objects under %r of %r", source_dir, len(items),
             len(existing), listing_prefix, storage)
    bar = progress_bar(total=sum(item.size_on_disk for item in items), unit="B",
                       unit_scale=True, desc="upload", enabled=progress, leave=True)
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        futures = {pool.submit(_upload_one, storage, item, existing.get(item.key),
                               dry_run=dry_run, attempts=attempts,
                               backoff=backoff): item for item in items}
        for future in as_completed(futures):
            item = futures[future]
            try:
                outcome, size, sha256 = future.result()
            except (StorageError, OSError) as exc:
                log.error("%s: %s", item.key, exc)
                report.failed[item.key] = str(exc)
            else:
                getattr(report, outcome).append(item.key)
                if not dry_run:
                    report.stored[item.key] = (size, sha256)
            bar.update(item.size_on_disk)
    finally:
        # On Ctrl-C, drop the queued files instead of uploading them all before exiting.
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    report.uploaded.sort()
    report.skipped.sort()
    return report


def dataset_prefix(session: Session, designation: str) -> str:
    """Return the storage prefix of a dataset (its designation when none is set), read through
    `session`. Raises UnknownDataset.
    """
    prefix = Dataset.prefix_for(session, designation)
    if prefix is None:
        raise UnknownDataset(f"no dataset {designation!r}: add it to the seed list, run flask seed")
    return prefix


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: parse options, upload, log the report, return the exit code."""
    parser = argparse.ArgumentParser(prog="upload", description=__doc__)
    parser.add_argument("dataset", help="dataset designation (its storage prefix is the default)")
    parser.add_argument("source_dir", type=Path, help="the dataset tree on disk")
    parser.add_argument("--prefix", help="key prefix (default: the dataset's storage prefix, "
                        "read from the database)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="parallel uploads")
    parser.add_argument("--dry-run", action="store_true", help="compare only, upload nothing")
    parser.add_argument("--strict", action="store_true", help="stop at a symlink leading out "
                        "of SOURCE_DIR, a symlink loop, an unreadable folder or a FIFO")
    parser.add_argument("--config", help="configuration name (default: $FLASK_CONFIG or globals)")
    options = parser.parse_args(argv)

    # The script is the outermost layer: it opens the configured session and storage (no app).
    # Imported here: the engine's package (pandas) is not needed by upload_tree's users.
    from load_db.engine.session import configured
    from load_file.checksums import record_image_checksums

    with configured(options.config) as resources:
        try:
            prefix = options.prefix if options.prefix is not None else dataset_prefix(
                resources.session, options.dataset)
            report = upload_tree(resources.storage, options.source_dir, prefix,
                                 workers=options.workers, dry_run=options.dry_run,
                                 strict=options.strict)
        except (UnknownDataset, NotADirectoryError, StorageError, UnsafeEntry) as exc:
            log.error("upload failed: %s", exc)
            return EXIT_BAD_INPUT
        if not options.dry_run and options.prefix is None:
            report.checksums_recorded = record_image_checksums(
                resources.session, resources.storage, options.dataset, report.stored)
    log.info("upload of %s finished:\n%s", options.source_dir, report.summary())
    return 0 if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
