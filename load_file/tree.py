"""A dataset tree on disk as the objects it becomes: which files, under which keys, with what bytes.

Upload and check-storage share these rules, so a tree uploaded once checks clean afterwards:
hidden files and archives are left out, and `.nii` files are stored gzipped as `.nii.gz`.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.storage import CHUNK_SIZE, join_key

# Container archives are not dataset files. Compressed single files (.nii.gz, BIDS
# _physio.tsv.gz) are, so a bare .gz is not an archive.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz",
                    ".7z", ".rar")
GZIP_SUFFIX = ".nii"
# Fixed, so that gzipping the same .nii twice gives the same bytes (and checksum) on a re-run.
GZIP_LEVEL = 6


@dataclass(frozen=True)
class SourceFile:
    """One file to store: where it is on disk, its object key, and whether it is gzipped first."""

    path: Path
    relative: str
    key: str
    gzip: bool
    size_on_disk: int


@dataclass(frozen=True)
class Content:
    """The bytes an object must hold: a file (the source or its gzip) with size and digests."""

    path: Path
    size: int
    sha256: str
    md5: str


def ignore_reason(relative: PurePosixPath) -> str | None:
    """Return why a file is not uploaded ("hidden file", "archive"), or None to upload it."""
    if any(part.startswith(".") for part in relative.parts):
        return "hidden file"
    if relative.name.lower().endswith(ARCHIVE_SUFFIXES):
        return "archive"
    return None


def plan_tree(source_dir: Path, prefix: str) -> tuple[list[SourceFile], dict[str, str]]:
    """List the files of `source_dir` as objects under `prefix`.

    Returns the files to store (sorted by key) and {relative path: reason} of the files left out.
    Hidden folders are not descended into. Raises NotADirectoryError if there is no such folder.
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise NotADirectoryError(f"{source_dir} is not a directory")
    files: list[SourceFile] = []
    ignored: dict[str, str] = {}
    for directory, folders, names in os.walk(source_dir):
        base = PurePosixPath(Path(directory).relative_to(source_dir).as_posix())
        for folder in [f for f in folders if f.startswith(".")]:
            ignored[(base / folder).as_posix() + "/"] = "hidden file"
            folders.remove(folder)
        for name in names:
            relative = base / name
            reason = ignore_reason(relative)
            if reason:
                ignored[relative.as_posix()] = reason
                continue
            path = Path(directory, name)
            compress = name.endswith(GZIP_SUFFIX)
            key_path = relative.as_posix() + (".gz" if compress else "")
            files.append(SourceFile(path=path, relative=relative.as_posix(),
                                    key=join_key(prefix, key_path), gzip=compress,
                                    size_on_disk=path.stat().st_size))
    return sorted(files, key=lambda item: item.key), dict(sorted(ignored.items()))


def _digests(path: Path) -> tuple[int, str, str]:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha256.hexdigest(), md5.hexdigest()


def gzip_file(source: Path, target: Path) -> None:
    """Gzip `source` into `target` deterministically: no file name and mtime 0 in the header."""
    with source.open("rb") as raw, target.open("wb") as out, \
            gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=out,
                          mtime=0) as packed:
        shutil.copyfileobj(raw, packed, CHUNK_SIZE)


@contextmanager
def prepared(item: SourceFile, workdir: str | Path | None = None) -> Iterator[Content]:
    """Yield the content to store for `item`; a gzip made for it is deleted afterwards."""
    if not item.gzip:
        yield Content(item.path, *_digests(item.path))
        return
    with tempfile.TemporaryDirectory(prefix="mbid-gz-", dir=workdir) as folder:
        target = Path(folder) / (item.path.name + ".gz")
        gzip_file(item.path, target)
        yield Content(target, *_digests(target))
