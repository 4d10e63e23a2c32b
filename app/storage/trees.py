"""A dataset's file tree, a folder on disk or a prefix in object storage: list, read, open.

One interface (`FileTree`) serves every reader of a dataset's files: the BIDS and DICOM
adapters, upload and check-storage. Both trees apply the rules of app.storage.sources (nothing
from outside the folder, no name that breaks the key rule) and keep what they left out in
`skipped` ({relative path: reason}); with `strict=True` the first such entry raises UnsafeEntry
instead. This module knows neither Flask nor the database's tables.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from app.storage.base import Storage
from app.storage.keys import join_key, validate_prefix
from app.storage.sources import UNREADABLE_FOLDER, SourceRoot, UnsafeEntry, name_problem

# A file modified this close to its listing may change again within the same timestamp tick
# (or be written right now): its version is not trusted, and the next load reads it again.
UNSETTLED_NS = 2_000_000_000


@runtime_checkable
class FileTree(Protocol):
    """Every file under a root, by relative POSIX path: its size, its text, a stream of it.

    Implemented by `LocalTree` (a folder) and `StorageTree` (a prefix in object storage), so
    that the same adapter reads a dataset on disk or already uploaded. A tree may also keep
    `skipped`, `versions` and `source` (see the functions below); `seekable` says whether the
    streams `open` returns can seek.
    """

    def files(self) -> Iterable[tuple[str, int | None]]:
        """Yield (relative POSIX path, size in bytes) for every file under the root.

        The size is None only when it cannot be known (e.g. a dangling git-annex symlink).
        """
        ...

    def read_text(self, path: str) -> str:
        """Return the text (UTF-8) of the file at relative POSIX `path`."""
        ...

    def open(self, path: str) -> IO[bytes]:
        """Return a readable binary stream of the file at relative POSIX `path`."""
        ...


def skipped_entries(tree: FileTree) -> dict[str, str]:
    """Return {relative path: reason} of what `tree` left out (empty for trees that skip none)."""
    return dict(getattr(tree, "skipped", {}))


def file_versions(tree: FileTree) -> dict[str, str | None]:
    """Return {relative path: version} of the files `tree` listed last ({} when it keeps none).

    A version is a short text: ``size:modification time in ns`` on disk, ``size:ETag`` in
    object storage; None when it cannot be trusted (the file must be read again next time).
    """
    return getattr(tree, "versions", {})


def source_of(tree: FileTree) -> str:
    """Where `tree`'s files come from: the same text for every listing of the same source."""
    return getattr(tree, "source", repr(tree))


class ListedTree:
    """A FileTree listed once: `files` returns the listing taken when it was made.

    A loader can then compare the listing with what it read last time before reading, with
    one walk of the tree; reads go to the tree itself.
    """

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self.listing = list(tree.files())
        self.skipped = skipped_entries(tree)
        self.versions = file_versions(tree)
        self.source = source_of(tree)
        self.root = getattr(tree, "root", None)
        self.seekable = getattr(tree, "seekable", False)

    def __repr__(self) -> str:
        return repr(self.tree)

    def files(self) -> list[tuple[str, int | None]]:
        """Return the listing taken when the tree was made."""
        return self.listing

    def read_text(self, path: str) -> str:
        """Return the text of `path`, read from the tree."""
        return self.tree.read_text(path)

    def open(self, path: str) -> IO[bytes]:
        """Return a binary stream of `path`, opened by the tree."""
        return self.tree.open(path)


class _Skips:
    """The entries a tree left out, or the error a strict tree raises at the first one."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.skipped: dict[str, str] = {}

    def skip(self, relative: str, reason: str) -> None:
        """Leave `relative` out for `reason` (or, in a strict tree, raise UnsafeEntry)."""
        if self.strict:
            raise UnsafeEntry(relative, reason)
        self.skipped[relative] = reason


class LocalTree(_Skips):
    """A directory on disk, walked once with os.scandir.

    `prune(relative_dir)` returning True skips a directory and everything under it, so that a
    large derivatives/ folder costs nothing. `ignore(relative, is_folder)` returning a reason
    leaves an entry out by choice (a hidden file, an archive, ...), before it is examined: it
    is kept in `ignored` (a folder's path ending with "/"), not in `skipped`. Symlinked
    directories are not followed (no cycles); a symlink to a file inside the root is read as
    that file (datalad/git-annex trees are made of them); anything else, and any file whose
    name breaks the key rule, is skipped with its reason (see app.storage.sources).

    Small and picklable (the listing's results are not sent), so that worker processes can
    read it too.
    """

    seekable = True

    def __init__(self, root: str | Path, prune: Callable[[str], bool] | None = None, *,
                 ignore: Callable[[str, bool], str | None] | None = None,
                 strict: bool = False) -> None:
        super().__init__(strict)
        self.root = Path(root)
        self.prune = prune
        self.ignore = ignore
        self.ignored: dict[str, str] = {}
        self.versions: dict[str, str | None] = {}
        self._source = SourceRoot(self.root)
        # Plain string joins, not pathlib: building a Path per read cost more than the read
        # itself on trees of tens of thousands of sidecars.
        self._prefix = os.path.join(str(self.root), "")

    def __repr__(self) -> str:
        return f"LocalTree({str(self.root)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "skipped": {}, "ignored": {}, "versions": {}}

    @property
    def source(self) -> str:
        """The root's real path: what a load of this folder is recorded under."""
        return self._source.real

    def files(self) -> Iterator[tuple[str, int | None]]:
        """Yield (relative POSIX path, size) of every file under the root, in no set order.

        Each file's version (size and modification time) is kept in `versions`.
        """
        self.skipped, self.ignored = {}, {}
        self.versions = versions = {}
        settled_before = time.time_ns() - UNSETTLED_NS
        ignore = self.ignore
        stack = [("", str(self.root))]
        while stack:
            relative_dir, directory = stack.pop()
            prefix = f"{relative_dir}/" if relative_dir else ""
            try:
                entries = list(os.scandir(directory))
            except OSError as exc:
                self.skip(prefix or "./", f"{UNREADABLE_FOLDER} ({exc.strerror})")
                continue
            for entry in entries:
                relative = prefix + entry.name
                # Inline checks, not a helper: this runs once per file of the tree.
                if ignore is not None:
                    # A link to a folder is ignored as a folder; a link loop is not one.
                    folder = entry.is_dir(follow_symlinks=False) or (
                        entry.is_symlink() and os.path.isdir(entry.path))
                    reason = ignore(relative, folder)
                    if reason is not None:
                        self.ignored[f"{relative}/" if folder else relative] = reason
                        continue
                if entry.is_dir(follow_symlinks=False):
                    if self.prune is None or not self.prune(relative):
                        stack.append((relative, entry.path))
                    continue
                if entry.is_file(follow_symlinks=False):
                    status, reason = entry.stat(follow_symlinks=False), None
                    size, modified = status.st_size, status.st_mtime_ns
                else:
                    size, reason = self._source.examine(entry.path)
                    modified = _target_modified(entry.path) if size is not None else None
                reason = reason or name_problem(relative)
                if reason is None:
                    versions[relative] = (
                        f"{size}:{modified}" if modified is not None and modified < settled_before
                        else None)
                    yield relative, size
                else:
                    self.skip(relative, reason)

    def read_text(self, path: str) -> str:
        """Return the UTF-8 text of `path` (relative to the root); a BOM is dropped."""
        # Bytes decoded at once: a text-mode file object per small sidecar cost more than
        # the decoding itself.
        with open(self._prefix + path, "rb") as handle:
            return handle.read().decode("utf-8-sig")

    def open(self, path: str) -> IO[bytes]:
        """Open the file at `path` (relative to the root) for reading bytes."""
        return open(self._prefix + path, "rb")


def _target_modified(path: str) -> int | None:
    """The modification time (ns) of the file a symlink leads to, None when it cannot be read."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


class StorageTree(_Skips):
    """A read-only tree of the objects under a prefix in object storage.

    The tree is listed once, on the first call to `files`; `read_text` and `open` read only
    the files asked for (a stream: a loader may read only an object's first bytes), so a loader
    can read a dataset's metadata without copying its images. An object whose key breaks the
    key rule (app.storage.keys) is skipped with its reason.
    """

    seekable = False

    def __init__(self, storage: Storage, prefix: str = "", *, strict: bool = False) -> None:
        super().__init__(strict)
        self.storage = storage
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_prefix(self.prefix)
        self._files: list[tuple[str, int]] | None = None
        self.versions: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"StorageTree({self.storage!r}, {self.prefix!r})"

    @property
    def source(self) -> str:
        """The storage backend and prefix: what a load of this tree is recorded under."""
        return f"{self.storage!r}/{self.prefix}"

    def files(self) -> list[tuple[str, int]]:
        """Return (relative POSIX path, size) of every object under the prefix, in key order."""
        if self._files is None:
            start = len(self.prefix) + 1 if self.prefix else 0
            listing = self.storage.list(f"{self.prefix}/" if self.prefix else "")
            files = []
            for info in listing:
                problem = name_problem(info.key)
                if problem:
                    self.skip(info.key[start:], problem)
                else:
                    files.append((info.key[start:], info.size))
                    # Without an ETag (the local backend) the size alone would miss an edit
                    # that keeps it: such a file is always read again.
                    self.versions[info.key[start:]] = (
                        f"{info.size}:{info.etag}" if info.etag else None)
            self._files = files
        return self._files

    def read_text(self, path: str) -> str:
        """Return the decoded content of the file at `path` (relative to the prefix)."""
        return self.storage.read_text(join_key(self.prefix, path))

    def open(self, path: str) -> IO[bytes]:
        """A binary stream of the object at `path` (relative to the prefix)."""
        return self.storage.open(join_key(self.prefix, path))
