"""Every shell and Python example of README.md and docs/*.md runs against a live server.

A fenced block names its language. ```sh, ```bash and ```python blocks run, in the order of
their file, unless the line before the fence is `<!-- not run: reason -->`; any other language
(text, yaml, json) is not run. `<!-- file: NAME -->` before a block writes it to NAME in the
examples' folder first (a configuration an example reads); `<!-- output -->` before a ```text
block lists what the runnable block before it must print, line by line (whitespace compared
loosely, `...` standing for any text). In the examples
`http://127.0.0.1:5000` is the test's server, `$TOKEN` a key with every scope, `flask` works
on the server's database and `../shared/data` is the shared test data.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from globals import ROOT
from tests.support.apps import SHARED_DATA

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"sh", "bash", "python"}
NOT_RUN = {"text", "yaml", "json"}
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>[^`\s]*)\s*$")
MARKER = re.compile(r"^<!--\s*(?P<kind>not run|file|output)\s*(?::\s*(?P<value>.*?))?\s*-->$")
# The blocks each page keeps from running on purpose (each marked `<!-- not run: reason -->`):
# a new one is a decision, so it is counted here.
MARKED_NOT_RUN = {"README.md": 2, "api.md": 1}
SERVED_URL = "http://127.0.0.1:5000"
# A shell example's curl fails on an error answer (4xx, 5xx), printing the JSON error.
SHELL_PREAMBLE = 'curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'
BLOCK_TIMEOUT = 120


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown page."""

    page: str
    line: int  # of the opening fence, from 1
    language: str
    code: str
    marker: str | None  # not run, file or output
    value: str | None  # the marker's reason or file name

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language or 'no language'})"

    @property
    def runs(self) -> bool:
        return self.language in RUN and self.marker != "not run"


def read_blocks(path: Path) -> list[Block]:
    """Return the fenced blocks of a Markdown file, each with the marker on the line before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, number = [], 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        indent = opening["indent"]
        end = number + 1
        while end < len(lines) and lines[end].rstrip() != f"{indent}```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path.name}:{number + 1}: fence never closed")
        previous = lines[number - 1].strip() if number else ""
        marker = MARKER.match(previous)
        code = textwrap.dedent("\n".join(lines[number + 1:end])) + "\n"
        blocks.append(Block(path.name, number + 1, opening["language"], code,
                            marker["kind"] if marker else None,
                            marker["value"] if marker else None))
        number = end + 1
    return blocks


def test_every_block_says_whether_it_runs():
    """Every fence names a known language, markers are well formed, and the blocks kept from
    running on purpose are the ones counted in MARKED_NOT_RUN."""
    problems, marked, counts = [], {}, {"run": 0, "not run": 0}
    for path in PAGES:
        blocks = read_blocks(path)
        for index, block in enumerate(blocks):
            if block.language not in RUN | NOT_RUN:
                problems.append(f"{block}: name a language among {sorted(RUN | NOT_RUN)}")
            if block.marker == "not run":
                marked[block.page] = marked.get(block.page, 0) + 1
                if block.language not in RUN or not block.value:
                    problems.append(f"{block}: 'not run' marks a runnable block, with a reason")
            if block.marker == "file" and (block.language not in NOT_RUN or not block.value):
                problems.append(f"{block}: 'file' marks a data block and names its file")
            if block.marker == "output" and (block.language != "text" or index == 0
                                             or not blocks[index - 1].runs):
                problems.append(f"{block}: 'output' marks a text block after a runnable one")
            counts["run" if block.runs else "not run"] += 1
    assert problems == []
    assert marked == MARKED_NOT_RUN
    assert counts["run"] >= 10, counts


def _environment(server, folder: Path) -> dict[str, str]:
    """The examples' environment: the server's token, and `flask` on the server's database."""
    return {**os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "TOKEN": server.token, "FLASK_APP": "app", "FLASK_CONFIG": "testing",
            "DATABASE_URL": server.database_url, "STORAGE_BACKEND": "local",
            "LOCAL_STORAGE_ROOT": str(server.storage_root), "PUBLIC_BASE_URL": server.base_url,
            "HOME": str(folder)}


def _filled(code: str, server) -> str:
    return code.replace(SERVED_URL, server.base_url).replace("../shared/data", str(SHARED_DATA))


def _run(block: Block, server, folder: Path, environment: dict[str, str]) -> str:
    """Run one block in `folder`; return what it printed on stdout."""
    code = _filled(block.code, server)
    if block.language == "python":
        command = [sys.executable, "-c", code]
    else:
        command = ["bash", "-euo", "pipefail", "-c", SHELL_PREAMBLE + code]
    result = subprocess.run(command, cwd=folder, env=environment, capture_output=True,
                            text=True, timeout=BLOCK_TIMEOUT)
    assert result.returncode == 0, (
        f"{block} failed (exit {result.returncode}):\n{code}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
    return result.stdout


def _words(text: str) -> str:
    return " ".join(text.split())


def _printed(expected: str, printed: str) -> bool:
    """Whether `printed` holds the lines of `expected` in order, `...` matching any text."""
    pattern = r"\s*".join(".*?".join(re.escape(_words(part)) for part in line.split("..."))
                          for line in expected.splitlines() if line.strip())
    return re.search(pattern, _words(printed), re.DOTALL) is not None


@pytest.mark.parametrize("page", [path.name for path in PAGES])
def test_examples_of_the_page_run(page, docs_server, tmp_path):
    """The page's runnable blocks run in order without error, each printing the lines of the
    output block that follows it."""
    path = next(path for path in PAGES if path.name == page)
    folder = tmp_path / "examples"
    folder.mkdir()
    environment = _environment(docs_server, folder)
    printed = ""
    for block in read_blocks(path):
        if block.marker == "file":
            (folder / block.value).write_text(block.code, encoding="utf-8")
        elif block.marker == "output":
            assert _printed(block.code, printed), f"{block}: not printed in\n{printed}"
        elif block.runs:
            printed = _run(block, docs_server, folder, environment)
    shutil.rmtree(folder)


def test_blocks_are_read_with_their_markers_and_indentation(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text\n<!-- not run: needs a cluster -->\n```sh\nmake cluster\n```\n"
                    "- item\n\n  <!-- file: rules.yaml -->\n  ```yaml\n  tags: {}\n  ```\n"
                    "```\nbare\n```\n", encoding="utf-8")
    assert read_blocks(page) == [
        Block("page.md", 3, "sh", "make cluster\n", "not run", "needs a cluster"),
        Block("page.md", 9, "yaml", "tags: {}\n", "file", "rules.yaml"),
        Block("page.md", 12, "", "bare\n", None, None)]
    page.write_text("```python\nprint(1)\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="page.md:1: fence never closed"):
        read_blocks(page)


@pytest.mark.parametrize(("expected", "printed", "found"), [
    ("a  b", "x\na b\ny", True),
    ("... missing: T2 x1\n  unexpected: -", "s1\tv1\tmissing: T2 x1\tunexpected: -\n", True),
    ("... missing: T2 x1", "missing: RST x1", False),
    ("first\nsecond", "second\nfirst", False),
])
def test_output_lines_are_matched_in_order_with_ellipses(expected, printed, found):
    assert _printed(expected, printed) is found
