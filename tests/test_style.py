"""The code keeps the project's style: ruff's checks as configured in pyproject.toml."""
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
