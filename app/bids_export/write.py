"""Write a planned BIDS export (app/bids_export/dataset.py) into a folder: copies of the stored
files, or symbolic links to them in a local store."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from app.bids_export.dataset import BidsExport
from app.storage import LocalStorage, Storage
from app.storage.base import copy_stream


class ExportError(Exception):
    """The export cannot be written where or how it was asked."""


def write_directory(export: BidsExport, dest: Path, storage: Storage, *, link: bool = False,
                    progress: Callable[[list], Iterable] | None = None) -> None:
    """Write `export` into the folder `dest` (made if missing; it must be empty). `progress`
    wraps the list of files to write (the command's progress bar), if given.

    With `link`, each stored file becomes a symbolic link to its object in the local store
    (ExportError with any other backend). Objects missing from storage raise ObjectNotFound.
    """
    if link and not isinstance(storage, LocalStorage):
        raise ExportError(f"--link needs local storage, not {storage.backend}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ExportError(f"{dest} exists and is not an empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(export.texts.items()):
        target = _target(dest, name)
        target.write_bytes(data)
    files = sorted(export.objects.items())
    for name, key in progress(files) if progress is not None else files:
        target = _target(dest, name)
        if link:
            source = storage.root.joinpath(*key.split("/"))
            # Only an object of the store is linked: the same check as the store's own reads.
            storage.stat(key, checksum=False)
            os.symlink(source, target)
            continue
        with storage.open(key) as stream, target.open("wb") as out:
            copy_stream(stream, out)


def _target(dest: Path, name: str) -> Path:
    target = dest.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
