"""Compare a dataset tree on disk with its objects in storage, file by file.

Differences: a file with no object (missing), an object with no file (extra), a size mismatch, a
checksum mismatch, and an object whose checksum cannot be verified (written by another tool with
neither a SHA-256 in its metadata nor a plain MD5 ETag).
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.storage import ObjectInfo, Storage
from load_db.engine.progress import progress_bar
from load_file.tree import SourceFile, plan_tree, prepared

# The last three compare the database's image checksums with storage (load_file.checksums).
KINDS = ("missing", "extra", "size", "checksum", "unverified", "unstored", "unrecorded",
         "recorded")
# A single-part upload's ETag is the MD5 of the content; a multipart one ends in -<parts>.
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Difference:
    """One way the storage differs from the disk."""

    kind: str
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.key} ({self.detail})"


def _compare_one(storage: Storage, item: SourceFile, listed: ObjectInfo) -> Difference | None:
    with prepared(item) as content:
        if listed.size != content.size:
            return Difference("size", item.key, f"disk {content.size} bytes, storage "
                              f"{listed.size} bytes")
        remote = storage.stat(item.key)
        if remote.sha256 is not None:
            if remote.sha256 != content.sha256:
                return Difference("checksum", item.key, f"disk sha256 {content.sha256}, storage "
                                  f"{remote.sha256}")
            return None
        if remote.etag and _PLAIN_MD5.match(remote.etag):
            if remote.etag != content.md5:
                return Difference("checksum", item.key, f"disk md5 {content.md5}, storage "
                                  f"ETag {remote.etag}")
            return None
        return Difference("unverified", item.key, "the object records no sha256 and its ETag "
                          "is not an MD5")


def compare_tree(storage: Storage, source_dir: Path, prefix: str, *, workers: int = 4,
                 progress: bool | None = None) -> list[Difference]:
    """Return every difference between `source_dir` and the objects under `prefix`, by key.

    Files that upload leaves out (hidden files, archives) are not expected in storage; every
    other file is expected as it is on disk, under its own relative path.
    """
    items = plan_tree(source_dir, prefix).files
    listing_prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    objects = {info.key: info for info in storage.list(listing_prefix)}
    expected = {item.key for item in items}
    differences = [Difference("missing", item.key, f"{item.relative} is not in storage")
                   for item in items if item.key not in objects]
    differences += [Difference("extra", key, "no such file on disk")
                    for key in objects if key not in expected]
    present = [item for item in items if item.key in objects]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda item: _compare_one(storage, item, objects[item.key]), present)
        for result in progress_bar(results, total=len(present), desc="check", unit=" files",
                                   enabled=progress, leave=True):
            if result is not None:
                differences.append(result)
    return sorted(differences, key=lambda difference: (difference.key, difference.kind))
