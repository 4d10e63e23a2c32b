"""BIDS file names and paths parsed once into entities, suffix, extension and location."""
from __future__ import annotations

from typing import NamedTuple

# Top-level folders that BIDS declares outside the raw dataset: never read, never counted.
SKIPPED_TOP_FOLDERS = frozenset({"derivatives", "sourcedata", "code", "stimuli"})
NIFTI_EXTENSIONS = (".nii", ".nii.gz")
SUBJECT_PREFIX, SESSION_PREFIX = "sub-", "ses-"
# NamedTuples, not dataclasses: a large dataset has a million of these, and they are cheap.


class BidsName(NamedTuple):
    """A parsed BIDS file name: `sub-01_ses-1_task-rest_run-2_bold.nii.gz`.

    `entities` keep the file's order (sub, ses, task, acq, run, dir, echo, part, ...); values are
    labels as written (``run-01`` -> ``"01"``). `valid` is False when a part before the suffix is
    not `key-value` (as in ``dataset_description.json``) or a key repeats.
    """

    entities: dict[str, str]
    suffix: str
    extension: str
    valid: bool = True

    def matches(self, other: BidsName) -> bool:
        """True when every entity of self is in `other` with the same value (BIDS inheritance)."""
        return self.entities.items() <= other.entities.items()


def parse_name(name: str) -> BidsName:
    """Parse a file name (no folder) into entities, suffix and extension. Pure.

    The extension starts at the first dot (``.nii.gz``, ``.tsv.gz``); the suffix is the last
    underscore-separated part before it.
    """
    stem, dot, rest = name.partition(".")
    *parts, suffix = stem.split("_")
    pairs = [part.partition("-") for part in parts]
    entities = {key: value for key, sep, value in pairs if sep and key}
    return BidsName(entities, suffix, dot + rest, len(entities) == len(pairs))


class Location(NamedTuple):
    """Where a file sits in the layout ``sub-X/[ses-Y/]datatype/file``.

    `subject` and `session` are labels without their ``sub-`` / ``ses-`` prefix, None when the
    file is not under such a folder. `datatype` is the folder between the subject (or session)
    and the file (anat, func, dwi, fmap, ...), None for files at the subject or session level.
    """

    subject: str | None
    session: str | None
    datatype: str | None


NOWHERE = Location(None, None, None)


def locate(path: str) -> Location:
    """Locate a relative POSIX path in the BIDS layout. Pure."""
    parts = path.split("/")
    if len(parts) < 2 or not parts[0].startswith(SUBJECT_PREFIX):
        return NOWHERE
    session = None
    below = parts[1:]
    if len(below) > 1 and below[0].startswith(SESSION_PREFIX):
        session, below = below[0][len(SESSION_PREFIX):], below[1:]
    # Some datatypes nest further (e.g. micr/ chunks); the datatype is the first folder.
    return Location(parts[0][len(SUBJECT_PREFIX):], session, below[0] if len(below) > 1 else None)


class BidsPath(NamedTuple):
    """A file of a BIDS tree: its relative path, location and parsed name."""

    path: str
    subject: str | None
    session: str | None
    datatype: str | None
    name: BidsName

    @property
    def is_nifti(self) -> bool:
        return self.name.extension in NIFTI_EXTENSIONS

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0]


def parse_path(path: str) -> BidsPath:
    """Parse a relative POSIX path: location and name. Pure."""
    return BidsPath(path, *locate(path), parse_name(path.rpartition("/")[2]))


def is_skipped(path: str) -> bool:
    """True for files outside the raw dataset: derivatives/, sourcedata/, code/, stimuli/ at the
    top, and any dot-file or file inside a dot-folder (.git, .datalad, .DS_Store, ...)."""
    top, slash, _ = path.partition("/")
    return path.startswith(".") or "/." in path or (bool(slash) and top in SKIPPED_TOP_FOLDERS)


def is_skipped_folder(path: str) -> bool:
    """True for a folder (relative POSIX path) whose whole content `is_skipped`."""
    return is_skipped(path + "/-")
