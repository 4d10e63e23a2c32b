"""Allowed values of the enumerated columns, stored as their lower-case string values."""
import enum


class ImageType(enum.StrEnum):
    """The only image kinds MBID-db stores; anything else is ignored at load time.

    Adding a kind is this one change plus a migration rewriting the CHECK constraint
    `ck_image_type` (see migrations/versions/e4b1c2d3f5a6_mammogram_image_type.py); the API's
    filters, counts, stats and exports list the members of this class.
    """

    T1 = "T1"
    DWI = "DWI"
    RSFMRI = "rsfMRI"
    FIELDMAP = "FieldMap"
    # One full-field digital mammogram (a DICOM SOP instance of modality MG).
    MAMMOGRAM = "Mammogram"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Handedness(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    AMBIDEXTROUS = "ambidextrous"
    UNKNOWN = "unknown"


class Race(enum.StrEnum):
    WHITE_NON_LATINO = "white_non_latino"
    WHITE_LATINO = "white_latino"
    BLACK = "black"
    ASIAN_OR_PACIFIC = "asian_or_pacific"
    AMERICAN_INDIAN = "american_indian"
    MULTIPLE = "multiple"
    UNDEFINED = "undefined"


class PreprocessState(enum.StrEnum):
    """Where an image is in the preprocessing pipeline."""

    NONE = "none"
    MINIMAL = "minimal"
    LOCKED = "locked"
    FAILED = "failed"
    WARPING = "warping"


class LoadStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DRY_RUN = "dry_run"


class QcState(enum.StrEnum):
    """Where an image is in QC review (DATMAN's states)."""

    NEW = "new"
    SIGNED_OFF = "signed_off"
    FLAGGED = "flagged"          # usable, with a comment
    BLACKLISTED = "blacklisted"  # not usable: left out of every query unless asked for


class MeasureKind(enum.StrEnum):
    """How a measure's values are read: a quantity, a score on an ordered scale, or a level."""

    NUMBER = "number"
    ORDINAL = "ordinal"
    CATEGORY = "category"
