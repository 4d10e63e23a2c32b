"""Which entries of a dataset folder on disk may be read and stored: only what is inside it.

A dataset folder can hold symlinks (datalad and git-annex trees are made of them). A link to a
file inside the folder is read as that file; a link that leads out of the folder, a link to a
folder, a link loop, a FIFO, a socket or a device is not a file of the dataset, nor is a file
whose name breaks the key rule (a newline in it, say): it is skipped with a reason for the
report (or stops a strict run), so that nothing from elsewhere on the machine, and no key that
storage would refuse, reaches object storage or the database. The file trees of
app.storage.trees apply this one rule for every reader: the loaders, upload and check-storage.
"""
from __future__ import annotations

import errno
import os
import stat

from app.storage.keys import check_key


class UnsafeEntry(ValueError):
    """A strict run met an entry that is not a file of the dataset (its path and why)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


SYMLINK_OUTSIDE = "symlink leading out of the dataset folder"
SYMLINK_LOOP = "symlink loop"
SYMLINK_TO_FOLDER = "symlink to a folder (not followed)"
UNREADABLE_FOLDER = "unreadable folder"
_SPECIAL_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"),
                  (stat.S_ISBLK, "device"))


def name_problem(relative: str) -> str | None:
    """Why a file's relative path cannot become (part of) an object key, or None."""
    problem = check_key(relative)
    return f"name not allowed in object storage: {problem}" if problem else None


def _special_reason(mode: int) -> str:
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "special file")
    return f"{kind}, not a regular file"


class SourceRoot:
    """The real location of a dataset folder, to judge the entries found under it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.real = os.path.realpath(root)
        self._inside = os.path.join(self.real, "")

    def contains(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path`, symlinks resolved, lies inside the folder."""
        return os.path.realpath(path).startswith(self._inside)

    def examine(self, path: str) -> tuple[int | None, str | None]:
        """Judge an entry that is neither a regular file nor a folder (by its own lstat).

        Returns (size, None) for a link to a regular file inside the folder, (None, None) for
        a dangling link that points inside it (a git-annex file whose content is not here:
        known by name, size unknown), and (None, reason) for anything else.
        """
        try:
            own = os.lstat(path)
        except OSError as exc:
            return None, f"unreadable ({exc.strerror})"
        if not stat.S_ISLNK(own.st_mode):
            return None, _special_reason(own.st_mode)
        if not self.contains(path):
            return None, SYMLINK_OUTSIDE
        try:
            target = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return None, SYMLINK_LOOP
            if exc.errno == errno.ENOENT:
                return None, None
            return None, f"unreadable ({exc.strerror})"
        if stat.S_ISDIR(target.st_mode):
            return None, SYMLINK_TO_FOLDER
        if not stat.S_ISREG(target.st_mode):
            return None, _special_reason(target.st_mode)
        return target.st_size, None
