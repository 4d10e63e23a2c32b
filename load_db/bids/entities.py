"""BIDS file names and paths parsed once into entities, suffix, extension and location."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

# Top-level folders that BIDS declares outside the raw dataset: never read, never counted.
SKIPPED_TOP_FOLDERS = frozenset({"derivatives", "sourcedata", "code", "stimuli"})
NIFTI_EXTENSIONS = frozenset({".nii", ".nii.gz"})
SUBJECT_PREFIX, SESSION_PREFIX = "sub-", "ses-"


@dataclass(frozen=True)
class BidsName:
    """A parsed BIDS file name: `sub-01_ses-1_task-rest_run-2_bold.nii.gz`.

    `entities` keep the file's order (sub, ses, task, acq, run, dir, echo, part, ...); values are
    labels as written (``run-01`` -> ``"01"``). `valid` is False when a part before the suffix is
    not `key-value`, as in ``dataset_description.json``.
    """

    entities: MappingProxyType
    suffix: str
    extension: str
    valid: bool = True

    def matches(self, other: BidsName) -> bool:
        """True when every entity of self is in `other` with the same value (BIDS inheritance)."""
        return all(other.entities.get(key) == value for key, value in self.entities.items())


def parse_name(name: str) -> BidsName:
    """Parse a file name (no folder) into entities, suffix and extension. Pure.

    The extension starts at the first dot (``.nii.gz``, ``.tsv.gz``); the suffix is the last
    underscore-separated part before it.
    """
    stem, dot, rest = name.partition(".")
    extension = dot + rest
    *parts, suffix = stem.split("_")
    pairs = [part.partition("-") for part in parts]
    valid = all(sep and key for key, sep, _ in pairs)
    entities = {key: value for key, sep, value in pairs if sep and key}
    return BidsName(MappingProxyType(entities), suffix, extension, valid)


@dataclass(frozen=True)
class BidsPath:
    """Where a file sits in a BIDS tree: its subject, session, datatype folder and name.

    `subject` and `session` are labels without their ``sub-`` / ``ses-`` prefix, None when the
    file is not under such a folder. `datatype` is the folder between the subject (or session)
    and the file (anat, func, dwi, fmap, ...), None for files at the subject or session level.
    """

    path: str
    subject: str | None
    session: str | None
    datatype: str | None
    name: BidsName = field(compare=False)

    @property
    def is_nifti(self) -> bool:
        return self.name.extension in NIFTI_EXTENSIONS

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0]


def is_skipped(path: str) -> bool:
    """True for files outside the raw dataset: derivatives/, sourcedata/, code/, stimuli/ at the
    top, and any dot-file or file inside a dot-folder (.git, .datalad, .DS_Store, ...)."""
    parts = path.split("/")
    return (len(parts) > 1 and parts[0] in SKIPPED_TOP_FOLDERS) or any(
        part.startswith(".") for part in parts)


def is_skipped_folder(path: str) -> bool:
    """True for a folder (relative POSIX path) whose whole content `is_skipped`."""
    return is_skipped(path + "/-")


def parse_path(path: str) -> BidsPath:
    """Locate a relative POSIX path in the BIDS layout ``sub-X/[ses-Y/]datatype/file``. Pure."""
    parts = path.split("/")
    folders, name = parts[:-1], parts[-1]
    subject = session = datatype = None
    if folders and folders[0].startswith(SUBJECT_PREFIX):
        subject = folders[0].removeprefix(SUBJECT_PREFIX)
        folders = folders[1:]
        if folders and folders[0].startswith(SESSION_PREFIX):
            session = folders[0].removeprefix(SESSION_PREFIX)
            folders = folders[1:]
        # Some datatypes nest further (e.g. micr/ chunks); the datatype is the first folder.
        datatype = folders[0] if folders else None
    return BidsPath(path, subject, session, datatype, parse_name(name))
