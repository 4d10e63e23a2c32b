"""Download many files with resume and SHA-256 verification, drawing progress on stderr.

An image made of several files (a DICOM series, or one part of one: an echo, a phase image)
comes from the API as a zip of exactly its files or, with presigned URLs, as a JSON manifest of
them: it is saved as `<path>.zip` (or, with `unpack`, as a folder `<path>/` holding its files)
and verified against the checksum of the set (`file_set_checksum`).

The download route says what it serves (headers X-Checksum-SHA256 and X-Storage-Key, on
its redirect too): a converted DICOM image comes as its NIfTI, saved
at the NIfTI's storage key and checked against the NIfTI's SHA-256, not the image row's.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
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
ZIP_SUFFIX = ".zip"
# What the download route says of the file it serves (app/api/downloads.py).
CHECKSUM_HEADER = "X-Checksum-SHA256"
KEY_HEADER = "X-Storage-Key"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# A zip written here has the date a zip without one gets (1980-01-01), so that the same files
# give the same bytes on every download.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class DownloadReport:
    """What a download did, file by file (storage keys)."""

    downloaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)  # downloaded, continuing a partial file
    skipped: list[str] = field(default_factory=list)  # already there, checksum verified
    unverified: list[str] = field(default_factory=list)  # no checksum known to verify against
    bytes_received: int = 0
    # Where each image went, relative to the destination: its file, `<path>.zip`, the folder
    # of an unpacked series, or a converted image's NIfTI (at the NIfTI's storage key).
    saved: dict[str, str] = field(default_factory=dict)


def sha256_of_file(path: Path) -> str:
    """Return the SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def listing_checksum(files: dict[str, str]) -> str:
    """The SHA-256 of the `sha256sum` listing of {name: file sha256}: `<sha256>  <name>`
    lines sorted by name (code-point order), as the API computes a file-set checksum."""
    listing = "".join(f"{sha256}  {name}\n" for name, sha256 in sorted(files.items()))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def file_set_checksum(folder: Path) -> str:
    """The checksum the API records for an image made of several files, of the files under
    `folder` (named by their path below it)."""
    return listing_checksum({path.relative_to(folder).as_posix(): sha256_of_file(path)
                             for path in folder.rglob("*") if path.is_file()})


def zip_set_checksum(archive_path: Path) -> str:
    """The file-set checksum of the files in a zip (named by their path in it)."""
    found = {}
    with zipfile.ZipFile(archive_path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            digest = hashlib.sha256()
            with archive.open(member) as stream:
                for chunk in iter(lambda stream=stream: stream.read(CHUNK_SIZE), b""):
                    digest.update(chunk)
            found[member.filename] = digest.hexdigest()
    return listing_checksum(found)


def checksum_of(target: Path, is_set: bool) -> str:
    """The SHA-256 of a file; of a set of files (a folder, or a zip), its file-set checksum."""
    if target.is_dir():
        return file_set_checksum(target)
    return zip_set_checksum(target) if is_set else sha256_of_file(target)


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


@dataclass(frozen=True)
class Served:
    """What the download route says of the file it serves (None from a presigned URL)."""

    checksum: str | None = None
    key: str | None = None


def served_by(headers: Mapping[str, str]) -> Served:
    """Read a download answer's headers: the SHA-256 of the file (or the file-set checksum
    of a set) and the storage key of the one file served."""
    return Served(headers.get(CHECKSUM_HEADER) or None, headers.get(KEY_HEADER) or None)


@dataclass(frozen=True)
class Saved:
    """One image as saved: where, which object it is (`key`), the checksum it was verified
    against (None: unverified) and what happened (downloaded, resumed, skipped, mismatched)."""

    path: Path
    key: str
    checksum: str | None
    outcome: str


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


def _complete(path: Path, checksum: str | None, size: int | None = None, *,
              is_set: bool = False) -> bool:
    """Whether `path` already holds the file (or set: a folder or zip) with this checksum."""
    if not (path.is_dir() if is_set and not path.name.endswith(ZIP_SUFFIX) else path.is_file()):
        return False
    if size is not None and not is_set and path.stat().st_size != size:
        return False
    return checksum is None or checksum_of(path, is_set) == checksum


def _open(client: Client, url: str, headers: dict[str, str]) -> tuple[Any, Served]:
    """GET `url` (streamed), following a redirect by hand so that what the route says of the
    file is read from its own answer, not from object storage's."""
    response = client.request("GET", url, stream=True, headers=headers, allow_redirects=False)
    served = served_by(response.headers)
    if response.status_code in REDIRECTS:
        location = response.headers["Location"]
        response.close()
        response = client.request("GET", location, stream=True, headers=headers)
    return response, served


def _write(response: Any, out_path: Path, mode: str, progress: _Progress) -> None:
    with response, out_path.open(mode) as out:
        for chunk in response.iter_content(CHUNK_SIZE):
            out.write(chunk)
            progress.advance(size=len(chunk))


def _save_set(client: Client, response: Any, kind: str, target: Path, unpack: bool,
              progress: _Progress) -> str | None:
    """Save a set of files as the zip `target` (or, with `unpack`, the folder `target`)
    through a partial file or folder; return the set's checksum the server gave, if any."""
    staging = target.with_name(target.name + PARTIAL_SUFFIX)
    if staging.exists():
        _remove(staging)
    checksum = None
    if kind == "application/zip":
        archive_path = staging if not unpack else target.with_name(
            target.name + ZIP_SUFFIX + PARTIAL_SUFFIX)
        _write(response, archive_path, "wb", progress)
        if unpack:
            staging.mkdir(parents=True)
            with zipfile.ZipFile(archive_path) as archive:
                for member in archive.infolist():
                    file_target = target_of(staging, member.filename)
                    file_target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as source, file_target.open("wb") as out:
                        shutil.copyfileobj(source, out, CHUNK_SIZE)
            archive_path.unlink()
    else:
        with response:
            manifest = response.json()
        checksum = manifest.get("checksum")
        entries = sorted(manifest["files"], key=lambda entry: entry["name"])
        if unpack:
            staging.mkdir(parents=True)
            for entry in entries:
                file_target = target_of(staging, entry["name"])
                file_target.parent.mkdir(parents=True, exist_ok=True)
                fetched, _ = _open(client, entry["url"], {})
                _write(fetched, file_target, "wb", progress)
        else:
            # Stored, not deflated, as the API's own zip: DICOM pixels compress little.
            with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_STORED) as archive:
                for entry in entries:
                    target_of(staging.parent, entry["name"])  # a name must stay inside
                    fetched, _ = _open(client, entry["url"], {})
                    with fetched, archive.open(zipfile.ZipInfo(entry["name"], ZIP_DATE), "w",
                                               force_zip64=True) as out:
                        for chunk in fetched.iter_content(CHUNK_SIZE):
                            out.write(chunk)
                            progress.advance(size=len(chunk))
    if target.exists():
        _remove(target)
    staging.replace(target)
    return checksum


def download_row(client: Client, row: Mapping[str, Any], place: Callable[[str], Path], *,
                 unpack: bool = False, progress: _Progress | None = None) -> Saved:
    """Download one image row (`path`, `url`, `checksum`, `file_size`) to `place(key)`.

    A file already there with the right checksum is skipped without asking (a converted or
    multi-file image is asked for, to learn what is served, but not read again when
    complete); a partial file is resumed with a Range request. A set of files is saved as
    `place(path + ".zip")`, or unpacked into the folder `place(path)`. The checksum checked is
    the one the route declares for what it serves, else the row's; on a mismatch the file is
    deleted and the outcome is "mismatched".
    """
    bar = progress or _Progress(1, row.get("file_size") or 0, False)
    key, expected = row["path"], row.get("checksum")
    base = place(key)
    base.parent.mkdir(parents=True, exist_ok=True)
    if _complete(base, expected, row.get("file_size")):
        bar.advance(size=row.get("file_size") or 0)
        return Saved(base, key, expected, "skipped")
    partial = base.with_name(base.name + PARTIAL_SUFFIX)
    offset = partial.stat().st_size if partial.is_file() else 0
    response, served = _open(client, row["url"], {"Range": f"bytes={offset}-"} if offset else {})
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    is_set = kind in FILE_SET_TYPES
    if is_set:
        target = base if unpack else base.with_name(base.name + ZIP_SUFFIX)
    else:
        key = served.key or key
        target = place(key)
        target.parent.mkdir(parents=True, exist_ok=True)
    expected = served.checksum or (None if served.key and served.key != row["path"]
                                   else expected)
    if (is_set or target != base) and _complete(target, expected, is_set=is_set):
        response.close()
        bar.advance(size=row.get("file_size") or 0)
        return Saved(target, key, expected, "skipped")
    resumed = False
    if is_set:
        expected = _save_set(client, response, kind, target, unpack, bar) or expected
    else:
        resumed = offset > 0 and response.status_code == 206
        _write(response, partial, "ab" if resumed else "wb", bar)
        partial.replace(target)
    if expected is not None and checksum_of(target, is_set) != expected:
        _remove(target)
        return Saved(target, key, expected, "mismatched")
    return Saved(target, key, expected, "resumed" if resumed else "downloaded")


def download_files(client: Client, rows: Sequence[dict[str, Any]], dest: Path, *,
                   progress: bool = True, unpack: bool = False,
                   on_file: Callable[[str, str], None] | None = None) -> DownloadReport:
    """Download every row's `url` under dest (see download_row: each image at its storage
    key, a set of files as `<path>.zip` or with `unpack` as a folder), skipping complete
    files, resuming partial ones, and verifying each (see Client.download)."""
    dest.mkdir(parents=True, exist_ok=True)
    report = DownloadReport()
    bar = _Progress(len(rows), sum(row.get("file_size") or 0 for row in rows), progress)
    mismatched: list[str] = []
    for row in rows:
        before = bar.bytes
        saved = download_row(client, row, lambda key: target_of(dest, key), unpack=unpack,
                             progress=bar)
        path = row["path"]
        if saved.outcome != "skipped":
            report.bytes_received += bar.bytes - before
        {"skipped": report.skipped, "resumed": report.resumed, "downloaded": report.downloaded,
         "mismatched": mismatched}[saved.outcome].append(path)
        if saved.outcome != "mismatched":
            report.saved[path] = saved.path.relative_to(dest.resolve()).as_posix()
        if saved.checksum is None:
            report.unverified.append(path)
        bar.advance(files=1)
        if on_file is not None:
            on_file(path, saved.outcome)
    if mismatched:
        raise ChecksumMismatch(mismatched)
    return report
