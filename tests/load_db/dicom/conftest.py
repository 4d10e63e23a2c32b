"""Fixtures of the DICOM adapter's tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def corpus(shared_data: Path) -> Path:
    """The real DICOM corpus, ../shared/data/dicom (read in place)."""
    return shared_data / "dicom"
