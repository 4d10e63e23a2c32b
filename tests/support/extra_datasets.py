"""A pytest plugin that runs tests with more dataset packages than load_db/ holds.

`python -m pytest -p tests.support.extra_datasets ...` with MBID_EXTRA_DATASETS naming a folder
of dataset packages puts that folder on load_db's package path before the tests are collected,
so that tests parametrised over the discovered packages cover those packages too.
"""
from __future__ import annotations

import os

import load_db

EXTRA_DATASETS = "MBID_EXTRA_DATASETS"


def pytest_configure(config) -> None:
    """Append $MBID_EXTRA_DATASETS (when set) to load_db's package path."""
    folder = os.environ.get(EXTRA_DATASETS)
    if folder and folder not in load_db.__path__:
        load_db.__path__.append(folder)
