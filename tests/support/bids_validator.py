"""Run the bids-validator npm package (installed under .venv/ by `make test`) on exports."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from globals import ROOT

VALIDATOR = ROOT / ".venv" / "bids-validator" / "node_modules" / ".bin" / "bids-validator"


def validation_errors(folders: Sequence[Path]) -> dict[str, list[tuple[str, list[str]]]]:
    """{folder: [(error key, the first files it names)]} of each folder, validated at once.

    The validators run in parallel: each spends seconds starting. NIfTI headers are not read
    (--ignoreNiftiHeaders): the example and shared data hold placeholder images.
    """
    assert VALIDATOR.exists(), f"{VALIDATOR} is missing: run `make .venv/.installed-test`"
    runs = {str(folder): subprocess.Popen(
        [str(VALIDATOR), "--json", "--ignoreNiftiHeaders", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for folder in folders}
    found = {}
    for folder, run in runs.items():
        output, _ = run.communicate(timeout=120)
        issues = json.loads(output)["issues"]
        found[folder] = [(issue["key"], [(item.get("file") or {}).get("relativePath", "")
                                         for item in issue["files"][:3]])
                         for issue in issues["errors"]]
    return found
