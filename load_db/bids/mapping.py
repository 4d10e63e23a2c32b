"""Lookup tables from BIDS participants.tsv and file names to MBID-db values. Pure."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from app.models.enums import Handedness, ImageType, Sex
from load_db.engine.cells import float_or_none

SEX = MappingProxyType({
    **dict.fromkeys(("f", "female", "woman", "w", "girl"), Sex.FEMALE),
    **dict.fromkeys(("m", "male", "man", "boy"), Sex.MALE),
    **dict.fromkeys(("o", "other", "non-binary", "nonbinary", "intersex"), Sex.OTHER),
    **dict.fromkeys(("u", "unknown", "n/a", ""), Sex.UNKNOWN),
})

HANDEDNESS = MappingProxyType({
    **dict.fromkeys(("r", "right", "rh", "right-handed", "right handed", "righthanded", "dextral"),
                    Handedness.RIGHT),
    **dict.fromkeys(("l", "left", "lh", "left-handed", "left handed", "lefthanded", "sinistral"),
                    Handedness.LEFT),
    **dict.fromkeys(("a", "ambidextrous", "ambi", "both", "mixed", "b"), Handedness.AMBIDEXTROUS),
    **dict.fromkeys(("u", "unknown", "n/a", ""), Handedness.UNKNOWN),
})

# An Edinburgh Handedness Inventory laterality quotient (-100 .. +100) read with the usual
# +/-40 cut-offs: upper bounds (inclusive) of each class, in order.
LATERALITY_QUOTIENT_CLASSES = ((-40.0, Handedness.LEFT), (40.0, Handedness.AMBIDEXTROUS),
                               (100.0, Handedness.RIGHT))

# participants.tsv columns that fill a subject column, in order of preference (names compared
# lower case). Any other column goes into the subject's metadata.
SEX_COLUMNS = ("sex", "gender")
HANDEDNESS_COLUMNS = ("handedness", "hand", "dominant_hand", "handed")
AGE_COLUMNS = ("age", "age_at_baseline", "age_years")
AGE_COLUMN_PATTERN = re.compile(r"age_.*")  # e.g. age_at_first_scan_years, age_at_scan


def to_sex(code: str, decoded: str) -> Sex:
    """Map a sex cell (its raw code, then its participants.json level) to Sex. Pure."""
    return SEX.get(code.strip().lower()) or SEX.get(decoded.strip().lower(), Sex.UNKNOWN)


def laterality_hand(text: str) -> str | None:
    """The dominant hand (a Handedness value) of an Edinburgh laterality quotient cell, cut at
    LATERALITY_QUOTIENT_CLASSES; None when the cell is blank; ValueError when it is not a
    number from -100 to +100 (for a column that holds quotients only: a wrong value is an
    error there, not an unknown hand)."""
    quotient = float_or_none(text)
    if quotient is None and not (text or "").strip():
        return None
    if quotient is None or not -100 <= quotient <= 100:
        raise ValueError(f"not an Edinburgh laterality quotient (-100 to +100): {text!r}")
    return next(hand for bound, hand in LATERALITY_QUOTIENT_CLASSES if quotient <= bound).value


def to_handedness(code: str, decoded: str) -> Handedness:
    """Map a handedness cell to Handedness; a number in [-100, 100] is a laterality quotient."""
    found = HANDEDNESS.get(code.strip().lower()) or HANDEDNESS.get(decoded.strip().lower())
    if found is not None:
        return found
    quotient = float_or_none(code)
    if quotient is None or not -100 <= quotient <= 100:
        return Handedness.UNKNOWN
    return next(hand for bound, hand in LATERALITY_QUOTIENT_CLASSES if quotient <= bound)


def pick_column(columns: list[str], names: tuple[str, ...],
                pattern: re.Pattern[str] | None = None) -> str | None:
    """The first of `columns` named like one of `names` (any case), else matching `pattern`."""
    by_lower = {column.lower(): column for column in reversed(columns)}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    if pattern is not None:
        return next((column for column in columns if pattern.fullmatch(column.lower())), None)
    return None


def _is_rest(entities: Mapping[str, str]) -> bool:
    return "rest" in entities.get("task", "").lower()


def _always(entities: Mapping[str, str]) -> bool:
    return True


FIELDMAP_SUFFIXES = ("phasediff", "phase1", "phase2", "magnitude", "magnitude1", "magnitude2",
                     "fieldmap", "epi")

# (datatype folder, suffix) -> (image type, a further test on the file's entities).
IMAGE_TYPES: Mapping[tuple[str, str], tuple[ImageType, Callable[[Mapping[str, str]], bool]]] = \
    MappingProxyType({
        ("anat", "T1w"): (ImageType.T1, _always),
        ("dwi", "dwi"): (ImageType.DWI, _always),
        ("func", "bold"): (ImageType.RSFMRI, _is_rest),
        **{("fmap", suffix): (ImageType.FIELDMAP, _always) for suffix in FIELDMAP_SUFFIXES},
    })


def image_type(datatype: str | None, suffix: str, entities: Mapping[str, str]) -> ImageType | None:
    """The MBID image type of a NIfTI file, None when MBID-db does not store it. Pure."""
    rule = IMAGE_TYPES.get((datatype or "", suffix))
    if rule is None:
        return None
    kind, applies = rule
    return kind if applies(entities) else None
