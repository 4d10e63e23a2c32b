"""Small files and trees written by the tests under tmp_path."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
