"""The master measures of the measures contract (docs/measures.md), for databases whose seed
lists lack them: `add_missing_measures` adds those not stored yet."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Measure

# designation: (kind, unit, minimum, maximum, levels, per_subject)
MEASURES = {
    "MMSE": ("ordinal", "points", 0, 30, None, False),
    "MOCA": ("ordinal", "points", 0, 30, None, False),
    "CDR_GLOBAL": ("ordinal", None, 0, 3, ["0", "0.5", "1", "2", "3"], False),
    "CDR_SB": ("ordinal", "points", 0, 18, None, False),
    "ADAS_COG11": ("number", "points", 0, 70, None, False),
    "ADAS_COG13": ("number", "points", 0, 85, None, False),
    "FAQ": ("ordinal", "points", 0, 30, None, False),
    "GDS": ("ordinal", "points", 0, 15, None, False),
    "MDS_UPDRS_III": ("ordinal", "points", 0, 132, None, False),
    "HOEHN_YAHR": ("ordinal", None, 0, 5, None, False),
    "EDUCATION_YEARS": ("number", "years", 0, 30, None, True),
    "HANDEDNESS": ("category", None, None, None, ["right", "left", "ambidextrous"], True),
    "HEIGHT": ("number", "cm", 50, 250, None, False),
    "WEIGHT": ("number", "kg", 20, 300, None, False),
    "BMI": ("number", "kg/m2", 10, 80, None, False),
    "APOE_E4": ("ordinal", "alleles", 0, 2, ["0", "1", "2"], True),
    "PSQI": ("ordinal", "points", 0, 21, None, False),
}


def add_missing_measures(session: Session) -> None:
    """Store the contract's master measures that the database lacks, and commit."""
    stored = set(session.scalars(select(Measure.designation)))
    for designation, (kind, unit, low, high, levels, per_subject) in MEASURES.items():
        if designation not in stored:
            session.add(Measure(designation=designation, kind=kind, unit=unit, minimum=low,
                                maximum=high, per_subject=per_subject,
                                levels=None if levels is None
                                else {level: level for level in levels}))
    session.commit()
