"""load_db/engine/validation.py: the one text rule (length, NUL) readers share row by row."""
from __future__ import annotations

import pytest

from load_db.engine.validation import row_text_problem, without_nul


@pytest.mark.parametrize(("row", "problem"), [
    ({"subject": "S" * 64, "visit": "v1", "path": "a/b"}, None),
    ({"subject": "S" * 69, "visit": "v1"},
     ("subject", "69 characters, more than the 64 the column holds")),
    ({"subject": "S1", "visit": "v\x001"}, ("visit", "NUL character (\\0) in the text")),
    ({"subject": "S1", "path": "p" * 1025},
     ("path", "1025 characters, more than the 1024 the column holds")),
    ({"subject": "S1", "manufacturer": "M" * 129},
     ("manufacturer", "129 characters, more than the 128 the column holds")),
    ({"subject": None, "serial": None, "SeriesDescription": "x" * 9999}, None),
])
def test_row_text_problem_names_the_first_column_a_database_would_refuse(row, problem):
    assert row_text_problem("images", row) == problem


@pytest.mark.parametrize(("value", "clean", "changed"), [
    ("T1w\x00MPRAGE", "T1wMPRAGE", True),
    (["a\x00", "b"], ["a", "b"], True),
    ({"k": ("x\x00y", 3)}, {"k": ("xy", 3)}, True),
    ({"k": [1.5, None, "ok"]}, {"k": [1.5, None, "ok"]}, False),
])
def test_without_nul_cleans_text_wherever_it_sits(value, clean, changed):
    assert without_nul(value) == (clean, changed)
