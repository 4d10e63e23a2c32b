"""A dataset's file tree, local or remote: the two operations the BIDS adapter needs."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
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
        # Plain string joins, not pathlib: building a Path per read cost more than the read
        # itself on trees of tens of thousands of sidecars.
        self._prefix = os.path.join(str(self.root), "")

    def __repr__(self) -> str:
        return f"LocalTree({str(self.root)!r})"

    def files(self) -> Iterator[tuple[str, int | None]]:
        """Yield (relative POSIX path, size) of every file under the root, in no set order."""
        stack = [("", self.root)]
        while stack:
            relative_dir, directory = stack.pop()
            prefix = f"{relative_dir}/" if relative_dir else ""
            with os.scandir(directory) as entries:
                for entry in entries:
                    relative = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if self.prune is None or not self.prune(relative):
                            stack.append((relative, entry.path))
                    elif entry.is_file() or entry.is_symlink():
                        try:  # inline, not a helper: this runs once per file of the tree
                            size = entry.stat().st_size
                        except OSError:  # a dangling symlink: the content is elsewhere
                            size = None
                        yield relative, size

    def read_text(self, path: str) -> str:
        """Return the UTF-8 text of `path` (relative to the root); a BOM is dropped."""
        with open(self._prefix + path, encoding="utf-8-sig") as handle:
            return handle.read()
