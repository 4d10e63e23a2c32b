"""Run the bids-validator npm package (installed under .venv/ by `make test`) on exports."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from globals import ROOT

VALIDATOR = ROOT / ".venv" / "bids-validator" / "node_modules" / ".bin" / "bids-validator"


class Validation:
    """bids-validator running on folders, in parallel and in the background: each run spends
    seconds starting, so a test starts them early and reads the errors when it needs them.

    NIfTI headers are not read (--ignoreNiftiHeaders): the example and shared data hold
    placeholder images.
    """

    def __init__(self, folders: Sequence[Path]) -> None:
        assert VALIDATOR.exists(), f"{VALIDATOR} is missing: run `make .venv/.installed-test`"
        self.runs = {str(folder): subprocess.Popen(
            [str(VALIDATOR), "--json", "--ignoreNiftiHeaders", str(folder)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for folder in folders}

    def errors(self) -> dict[str, list[tuple[str, list[str]]]]:
        """{folder: [(error key, the first files it names)]}, once every run has ended."""
        found = {}
        for folder, run in self.runs.items():
            output, _ = run.communicate(timeout=180)
            issues = json.loads(output)["issues"]
            found[folder] = [(issue["key"], [(item.get("file") or {}).get("relativePath", "")
                                             for item in issue["files"][:3]])
                             for issue in issues["errors"]]
        return found
