"""Small files and trees written by the tests under tmp_path."""
from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
NOBODY = 65534  # the uid and gid of `nobody` on Debian

# A file's content: text as is, a dict as JSON, a list of rows (the first one the header) as TSV.
Content = str | bytes | Mapping[str, Any] | Sequence[Sequence[Any]]


def tsv(rows: Sequence[Sequence[Any]]) -> str:
    """Rows (header first) as TSV text."""
    return "".join("\t".join(str(cell) for cell in row) + "\n" for row in rows)


def write_tree(root: Path, files: Mapping[str, Content]) -> Path:
    """Write `files` ({relative path: content}) under `root` and return `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, Mapping):
            path.write_text(json.dumps(content))
        else:
            path.write_text(tsv(content))
    return root


def run_unprivileged(function: Callable[[], T]) -> T:
    """Return function(), run without root's power to read any file when the tests run as root.

    Root reads folders whatever their permissions, so a test of an unreadable folder forks a
    child that becomes `nobody` first and sends the result back through a pipe.
    """
    if os.geteuid() != 0:
        return function()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child leaves through os._exit)
        os.close(reader)
        status = 0
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            payload = pickle.dumps(("ok", function()))
        except BaseException as exc:  # the parent re-raises it
            payload, status = pickle.dumps(("error", repr(exc))), 1
        with os.fdopen(writer, "wb") as out:
            out.write(payload)
        os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as source:
        kind, value = pickle.loads(source.read())
    os.waitpid(child, 0)
    if kind == "error":
        raise AssertionError(f"the unprivileged call failed: {value}")
    return value


def set_modified(root: Path, seconds_ago: float, *relative: str) -> None:
    """Set the modification time of the files under `root` (every one, or only the `relative`
    paths given) to `seconds_ago` seconds before now."""
    when = time.time() - seconds_ago
    paths = ([root / path for path in relative] if relative
             else [path for path in root.rglob("*") if path.is_file()])
    for path in paths:
        os.utime(path, (when, when))


def small_nifti() -> bytes:
    """A 20x24x16 .nii.gz (a bright cube in a dim field): an image a preview can show."""
    import gzip

    import nibabel as nib
    import numpy as np

    data = np.full((20, 24, 16), 10.0, dtype=np.float32)
    data[4:16, 4:20, 3:13] = 50.0
    return gzip.compress(nib.Nifti1Image(data, np.eye(4)).to_bytes())
