"""Small-count suppression of /stats and the dashboard (pure functions)."""
from __future__ import annotations

import pytest

from app.query.stats import suppressed, suppressed_count


@pytest.mark.parametrize(("count", "threshold", "shown"), [
    (0, 5, 0), (1, 5, "<5"), (4, 5, "<5"), (5, 5, 5), (120, 5, 120), (1, 1, 1), (9, 10, "<10")])
def test_suppressed_count(count, threshold, shown):
    assert suppressed_count(count, threshold) == shown


def test_suppressed_leaves_the_non_count_fields_alone():
    stats = {"subjects": 3, "images": 7, "groups": [
        {"dataset": "A", "type": "T1", "condition": None, "subjects": 3, "images": 7}],
        "sex": [], "age": [{"age_min": 10, "age_max": 20, "subjects": 0, "images": 0}]}
    assert suppressed(stats, 5) == {"subjects": "<5", "images": 7, "groups": [
        {"dataset": "A", "type": "T1", "condition": None, "subjects": "<5", "images": 7}],
        "sex": [], "age": [{"age_min": 10, "age_max": 20, "subjects": 0, "images": 0}]}
