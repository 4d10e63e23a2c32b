"""Measures and assessments added to the world of tests/support/world.py, every value known.

measure          kind      per subject
MMSE             ordinal   no
CDR_GLOBAL       ordinal   no
BMI              number    no
EDUCATION_YEARS  number    yes
HANDEDNESS       category  yes

subject  assessments (measure: value at day [visit])
ann      MMSE: 29 at 0 [a0], 22 at 725, 25 at 720 [a1];  CDR_GLOBAL: 0 at 0 [a0], 0.5 at 730 [a1]
         EDUCATION_YEARS: 16 at 0, 18 at 900;  HANDEDNESS: right at 0;  BMI: 24.5 at 0 [a0]
bob      CDR_GLOBAL: 1 at 0 [b0];  EDUCATION_YEARS: 12 at 0;  HANDEDNESS: left at 0
cat      MMSE: 21 at 0 [c0]
eve      MMSE: 23 at 0, 18 at 500;  CDR_GLOBAL: 0.5 at 100 [e0];  HANDEDNESS: left at 50

The value that counts for each image (default window of 365 days):
image  scan day [visit]  MMSE          CDR_GLOBAL   EDUCATION_YEARS  HANDEDNESS
i1     0 [a0]            29 at 0       0 at 0       18 at 900        right at 0
i2     0 [a0]            29 at 0       0 at 0       18 at 900        right at 0
i3     730 [a1]          25 at 720 (*) 0.5 at 730   18 at 900        right at 0
i4     0 [b0]            -             1 at 0       12 at 0          left at 0
i5     365 [c1]          21 at 0 (**)  -            -                -
i6     0 [c0]            21 at 0       -            -                -
i7     - [-]             -             -            -                -
i8     100 [e0]          23 at 0       0.5 at 100   -                left at 50
(*) at its visit, though 22 at day 725 is later and still before the scan.
(**) exactly 365 days before: out of a window of 364.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import MeasureKind
from tests.support.factories import make_assessment, make_measure
from tests.support.world import World


def add_measures(session: Session, world: World) -> dict[str, Any]:
    """Write the measures and assessments above into `world`'s database, commit, and return the
    measures by designation."""
    measures = {
        "MMSE": make_measure(session, designation="MMSE", kind=MeasureKind.ORDINAL,
                             unit="points", minimum=0, maximum=30,
                             description="Mini-Mental State Examination"),
        "CDR_GLOBAL": make_measure(session, designation="CDR_GLOBAL", kind=MeasureKind.ORDINAL,
                                   levels={"steps": [0, 0.5, 1, 2, 3]}),
        "BMI": make_measure(session, designation="BMI", kind=MeasureKind.NUMBER, unit="kg/m2"),
        "EDUCATION_YEARS": make_measure(session, designation="EDUCATION_YEARS",
                                        kind=MeasureKind.NUMBER, unit="years", per_subject=True),
        "HANDEDNESS": make_measure(session, designation="HANDEDNESS", kind=MeasureKind.CATEGORY,
                                   per_subject=True, levels={"right": "Right-handed",
                                                             "left": "Left-handed"}),
    }
    subjects, visits = world.subjects, world.visits

    def value(measure: str, subject: str, day: int, number_or_level: Any,
              visit: str | None = None) -> None:
        make_assessment(session, measure=measures[measure], subject=subjects[subject],
                        days_since_baseline=day, value=number_or_level,
                        visit=visits[visit] if visit else None)

    value("MMSE", "ann", 0, 29.0, "a0")
    value("MMSE", "ann", 725, 22.0)
    value("MMSE", "ann", 720, 25.0, "a1")
    value("MMSE", "cat", 0, 21.0, "c0")
    value("MMSE", "eve", 0, 23.0)
    value("MMSE", "eve", 500, 18.0)
    value("CDR_GLOBAL", "ann", 0, 0.0, "a0")
    value("CDR_GLOBAL", "ann", 730, 0.5, "a1")
    value("CDR_GLOBAL", "bob", 0, 1.0, "b0")
    value("CDR_GLOBAL", "eve", 100, 0.5, "e0")
    value("BMI", "ann", 0, 24.5, "a0")
    value("EDUCATION_YEARS", "ann", 0, 16.0)
    value("EDUCATION_YEARS", "ann", 900, 18.0)
    value("EDUCATION_YEARS", "bob", 0, 12.0)
    value("HANDEDNESS", "ann", 0, "right")
    value("HANDEDNESS", "bob", 0, "left")
    value("HANDEDNESS", "eve", 50, "left")
    session.commit()
    return measures
