"""Download many files with resume and SHA-256 verification, drawing progress on stderr.

An image made of several files (a DICOM series) comes from the API as a zip or, with presigned
URLs, as a JSON manifest of its files: it is written as a folder named by its path, holding
exactly its files, and verified against the checksum of the set (`file_set_checksum`).
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mbid_client.errors import ChecksumMismatch

if TYPE_CHECKING:
    from mbid_client.client import Client

CHUNK_SIZE = 1024 * 1024
PARTIAL_SUFFIX = ".part"
# The answers of an image made of several files: a zip of them, or a manifest of their URLs.
FILE_SET_TYPES = ("application/zip", "application/json")


@dataclass
class DownloadReport:
    """What a download did, file by file (storage keys)."""

    downloaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)  # downloaded, continuing a partial file
    skipped: list[str] = field(default_factory=list)  # already there, checksum verified
    unverified: list[str] = field(default_factory=list)  # no checksum known to verify against
    bytes_received: int = 0


def sha256_of_file(path: Path) -> str:
    """Return the SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_set_checksum(folder: Path) -> str:
    """The checksum the API records for an image made of several files: the SHA-256 of the
    `sha256sum` listing of the files under `folder` (`<sha256>  <name>` lines, by name)."""
    names = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                   if path.is_file())
    listing = "".join(f"{sha256_of_file(folder / name)}  {name}\n" for name in names)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _checksum_of(target: Path) -> str:
    return file_set_checksum(target) if target.is_dir() else sha256_of_file(target)


def _remove(target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)


def target_of(dest: Path, key: str) -> Path:
    """Return where the object `key` goes under `dest`, refusing a key that would leave it."""
    target = (dest / key).resolve()
    if dest.resolve() not in target.parents:
        raise ValueError(f"refusing storage key outside the destination: {key!r}")
    return target


def _complete(path: Path, row: dict[str, Any]) -> bool:
    if path.is_dir():  # the files of a multi-file image
        return row.get("checksum") is None or file_set_checksum(path) == row["checksum"]
    if not path.is_file():
        return False
    if row.get("file_size") is not None and path.stat().st_size != row["file_size"]:
        return False
    return row.get("checksum") is None or sha256_of_file(path) == row["checksum"]


class _Progress:
    """A one-line progress bar on stderr (files and bytes)."""

    def __init__(self, total_files: int, total_bytes: int, enabled: bool) -> None:
        self.total_files, self.total_bytes, self.enabled = total_files, total_bytes, enabled
        self.files = self.bytes = 0

    def advance(self, files: int = 0, size: int = 0) -> None:
        self.files += files
        self.bytes += size
        if not self.enabled:
            return
        done = self.bytes / self.total_bytes if self.total_bytes else 1.0
        bar = "#" * int(30 * done)
        sys.stderr.write(f"\r[{bar:<30}] {self.files}/{self.total_files} files, "
                         f"{self.bytes / 1e6:.1f}/{self.total_bytes / 1e6:.1f} MB")
        if self.files == self.total_files:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _fetch(client: Client, row: dict[str, Any], target: Path, progress: _Progress) -> bool:
    """Download one file to `target` through a partial file; return whether it resumed."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    offset = partial.stat().st_size if partial.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    response = client.request("GET", row["url"], stream=True, headers=headers)
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    if kind in FILE_SET_TYPES:
        with response:
            _fetch_set(client, response, kind, target, progress)
        return False
    resumed = offset > 0 and response.status_code == 206
    with response, partial.open("ab" if resumed else "wb") as out:
        for chunk in response.iter_content(CHUNK_SIZE):
            out.write(chunk)
            progress.advance(size=len(chunk))
    partial.replace(target)
    return resumed


def _fetch_set(client: Client, response: Any, kind: str, target: Path,
               progress: _Progress) -> None:
    """Write the files of a multi-file image into the folder `target`, through a partial
    folder: from the zip streamed in `response`, or from the URLs of its JSON manifest."""
    staging = target.with_name(target.name + PARTIAL_SUFFIX)
    if staging.exists():
        _remove(staging)
    staging.mkdir(parents=True)
    if kind == "application/zip":
        archive_path = target.with_name(target.name + ".zip" + PARTIAL_SUFFIX)
        with archive_path.open("wb") as out:
            for chunk in response.iter_content(CHUNK_SIZE):
                out.write(chunk)
                progress.advance(size=len(chunk))
        with zipfile.ZipFile(archive_path) as archive:
            for member in archive.infolist():
                file_target = target_of(staging, member.filename)
                file_target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, file_target.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK_SIZE)
        archive_path.unlink()
    else:
        for entry in response.json()["files"]:
            file_target = target_of(staging, entry["name"])
            file_target.parent.mkdir(parents=True, exist_ok=True)
            with client.request("GET", entry["url"], stream=True) as fetched, \
                    file_target.open("wb") as out:
                for chunk in fetched.iter_content(CHUNK_SIZE):
                    out.write(chunk)
                    progress.advance(size=len(chunk))
    if target.exists():
        _remove(target)
    staging.replace(target)


def download_files(client: Client, rows: Sequence[dict[str, Any]], dest: Path, *,
                   progress: bool = True,
                   on_file: Callable[[str, str], None] | None = None) -> DownloadReport:
    """Download every row's `url` to dest/<path>, skipping complete files, resuming partial
    ones, and verifying each against the row's SHA-256 (see Client.download)."""
    dest.mkdir(parents=True, exist_ok=True)
    report = DownloadReport()
    bar = _Progress(len(rows), sum(row.get("file_size") or 0 for row in rows), progress)
    mismatched: list[str] = []
    for row in rows:
        key = row["path"]
        target = target_of(dest, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if _complete(target, row):
            outcome = "skipped"
            bar.advance(size=row.get("file_size") or 0)
        else:
            before = bar.bytes
            resumed = _fetch(client, row, target, bar)
            report.bytes_received += bar.bytes - before
            outcome = "resumed" if resumed else "downloaded"
            if row.get("checksum") is not None and _checksum_of(target) != row["checksum"]:
                _remove(target)
                mismatched.append(key)
                outcome = "mismatched"
        {"skipped": report.skipped, "resumed": report.resumed,
         "downloaded": report.downloaded}.get(outcome, []).append(key)
        if row.get("checksum") is None:
            report.unverified.append(key)
        bar.advance(files=1)
        if on_file is not None:
            on_file(key, outcome)
    if mismatched:
        raise ChecksumMismatch(mismatched)
    return report
