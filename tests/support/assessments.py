"""Measures and assessments over the test world (tests/support/world.py), fully known.

measure      kind      values (subject, day since baseline, visit)
MMSE         ordinal   ann 29 (0, a0), 22 (730, a1); bob 27 (0, b0); cat 23 (300, no visit:
                       her image i5 of day 365 takes it, i6 of day 0 does not); eve 20 (100, e0)
CDR_GLOBAL   ordinal   ann 0.5 (730, a1)
HANDEDNESS   category  ann right (0, no visit); a trait (per_subject): it holds at every scan
dan has no assessment.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import Measure, MeasureKind
from tests.support.factories import make_assessment, make_measure
from tests.support.world import World

MEASURES: dict[str, dict[str, Any]] = {
    "MMSE": {"kind": MeasureKind.ORDINAL, "unit": "points", "minimum": 0, "maximum": 30},
    "CDR_GLOBAL": {"kind": MeasureKind.ORDINAL, "levels": {
        "0": "none", "0.5": "questionable", "1": "mild", "2": "moderate", "3": "severe"}},
    "HANDEDNESS": {"kind": MeasureKind.CATEGORY, "per_subject": True, "levels": {
        "right": "right", "left": "left", "ambidextrous": "ambidextrous"}},
}
# (subject, measure, day since baseline, visit or None, value)
ASSESSMENTS = [("ann", "MMSE", 0, "a0", 29), ("ann", "MMSE", 730, "a1", 22),
               ("ann", "CDR_GLOBAL", 730, "a1", 0.5), ("ann", "HANDEDNESS", 0, None, "right"),
               ("bob", "MMSE", 0, "b0", 27), ("cat", "MMSE", 300, None, 23),
               ("eve", "MMSE", 100, "e0", 20)]


def assess_world(session: Session, world: World) -> dict[str, Measure]:
    """Write the measures and assessments of the table above and commit them."""
    measures = {name: make_measure(session, designation=name, **values)
                for name, values in MEASURES.items()}
    for subject, measure, day, visit, value in ASSESSMENTS:
        make_assessment(session, subject=world.subjects[subject], measure=measures[measure],
                        days_since_baseline=day, visit=world.visits[visit] if visit else None,
                        value=value)
    session.commit()
    return measures
