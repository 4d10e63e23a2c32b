"""The code keeps the project's style: ruff's checks as configured in pyproject.toml."""
import re
import subprocess
import sys

from globals import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_import_helpers_only_from_the_support_package():
    """Shared test helpers live in tests/support: no test imports a conftest or a test module."""
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import") \
                    and words[1].startswith("tests.") and not words[1].startswith("tests.support"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# A path of one machine: a home, root's home, a workspace or mount, or a macOS user folder.
MACHINE_PATH = re.compile(r"(?<![\w.~/])/(?:home|root|work|mnt|Users)/")


def test_no_tracked_file_names_a_path_of_one_machine():
    """The repository works on any machine: no tracked text file names an absolute path of the
    machine it was written on."""
    tracked = subprocess.run(["git", "ls-files", "-z"], capture_output=True, cwd=ROOT,
                             check=True).stdout.decode().split("\0")
    offenders = []
    for name in filter(None, tracked):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary: images, spreadsheets, DICOM
            continue
        offenders += [f"{name}:{number}: {line.strip()}"
                      for number, line in enumerate(text.splitlines(), start=1)
                      if MACHINE_PATH.search(line)]
    assert offenders == []
