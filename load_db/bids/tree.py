"""A dataset's file tree, local or remote: the two operations the BIDS adapter needs."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable


@runtime_checkable
class FileTree(Protocol):
    """Every file under a root, by relative POSIX path, and the text of any of them.

    Implemented by `LocalTree` here and by a tree over object storage, so that the same adapter
    reads a dataset on disk or already uploaded.
    """

    def files(self) -> Iterable[tuple[str, int | None]]:
        """Yield (relative POSIX path, size in bytes) for every file under the root.

        The size is None only when it cannot be known (e.g. a dangling git-annex symlink).
        """
        ...

    def read_text(self, path: str) -> str:
        """Return the text (UTF-8) of the file at relative POSIX `path`."""
        ...


class LocalTree:
    """A directory on disk, walked once with os.scandir.

    `prune(relative_dir)` returning True skips a directory and everything under it, so that a
    large derivatives/ folder costs nothing. Symlinked directories are not followed (no cycles);
    symlinked files are (datalad/git-annex trees are made of them).
    """

    def __init__(self, root: str | Path, prune: Callable[[str], bool] | None = None) -> None:
        self.root = Path(root)
        self.prune = prune

    def __repr__(self) -> str:
        return f"LocalTree({str(self.root)!r})"

    def files(self) -> Iterator[tuple[str, int | None]]:
        """Yield (relative POSIX path, size) of every file under the root, in no set order."""
        stack = [("", self.root)]
        while stack:
            relative_dir, directory = stack.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if self.prune is None or not self.prune(relative):
                            stack.append((relative, entry.path))
                    elif entry.is_file() or entry.is_symlink():
                        yield relative, _size(entry)

    def read_text(self, path: str) -> str:
        """Return the UTF-8 text of `path` (relative to the root); a BOM is dropped."""
        return (self.root / PurePosixPath(path)).read_text(encoding="utf-8-sig")


def _size(entry: os.DirEntry) -> int | None:
    try:
        return entry.stat().st_size
    except OSError:  # a dangling symlink: the file exists in the dataset, its content is elsewhere
        return None
