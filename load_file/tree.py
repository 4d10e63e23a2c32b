"""A dataset tree on disk as the objects it becomes: which files, under which keys, with what bytes.

Upload and check-storage share these rules, so a tree uploaded once checks clean afterwards:
hidden files and archives are left out, and nothing from outside the folder is stored (the
folder is read as a LocalTree of app.storage.trees). Every file is stored as the user gave it,
under its own relative path (a `.nii` stays `.nii`): the key of a file is the one the loaders
give its image, so a load and an upload of the same folder meet, whichever runs first.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.storage import CHUNK_SIZE, InvalidKey, join_key
from app.storage.sources import UnsafeEntry
from app.storage.trees import LocalTree

# Container archives are not dataset files. Compressed single files (.nii.gz, BIDS
# _physio.tsv.gz) are, so a bare .gz is not an archive.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz",
                    ".7z", ".rar")
BROKEN_SYMLINK = "broken symlink (its target is absent)"


@dataclass(frozen=True)
class SourceFile:
    """One file to store: where it is on disk, its path in the dataset and its object key."""

    path: Path
    relative: str
    key: str
    size_on_disk: int


@dataclass(frozen=True)
class Content:
    """The bytes an object must hold: the source file, with its size and digests."""

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


def _left_out(relative: str, folder: bool) -> str | None:
    """Why upload leaves an entry out by choice: a hidden folder, or see ignore_reason."""
    if folder:
        return "hidden file" if relative.rpartition("/")[2].startswith(".") else None
    return ignore_reason(PurePosixPath(relative))


@dataclass
class TreePlan:
    """A dataset folder as objects: the files to store (by key), and the files left out.

    `ignored` holds the files left out by choice (hidden files, archives); `refused`, the
    entries that are not files of the dataset (see app.storage.sources), with the reason.
    Both are keyed by relative path ("folder/" for a folder).
    """

    files: list[SourceFile] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def plan_tree(source_dir: Path, prefix: str, *, strict: bool = False) -> TreePlan:
    """List the files of `source_dir` as objects under `prefix`, sorted by key.

    The folder is read as a LocalTree (app.storage.trees): hidden folders are not descended
    into, symlinked folders are not followed, and a symlink is stored only when it leads to a
    regular file inside `source_dir`. Raises NotADirectoryError if there is no such folder,
    and with `strict` UnsafeEntry at the first entry that is not a file of the dataset (a
    symlink out of the folder, a symlink loop, an unreadable folder, a FIFO, ...).
    """
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise NotADirectoryError(f"{source_dir} is not a directory")
    tree = LocalTree(source_dir, ignore=_left_out, strict=strict)
    plan = TreePlan()
    for relative, size in tree.files():
        # A dangling link is a file the loaders know by name; upload has no bytes to store.
        reason = BROKEN_SYMLINK if size is None else None
        if reason is None:
            try:
                key = join_key(prefix, relative)
            except InvalidKey as exc:  # the prefix made it too long
                reason = str(exc)
        if reason:
            if strict:
                raise UnsafeEntry(relative, reason)
            plan.refused[relative] = reason
            continue
        plan.files.append(SourceFile(path=source_dir / relative, relative=relative, key=key,
                                     size_on_disk=size))
    plan.files.sort(key=lambda item: item.key)
    plan.ignored = dict(sorted(tree.ignored.items()))
    plan.refused = dict(sorted({**tree.skipped, **plan.refused}.items()))
    return plan


def _digests(path: Path) -> tuple[int, str, str]:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha256.hexdigest(), md5.hexdigest()


@contextmanager
def prepared(item: SourceFile) -> Iterator[Content]:
    """Yield the content to store for `item`: the file itself, with its size and digests."""
    yield Content(item.path, *_digests(item.path))
