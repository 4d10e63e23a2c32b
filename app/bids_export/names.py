"""Where each file goes in an exported BIDS dataset: subject and session labels, datatype folder,
entities, suffix and run numbers. Pure: no database, no storage.

A subject's label is made of its study and its id in the study (`OASIS` + `OAS30001` ->
`sub-OASISOAS30001`), so the subjects of several studies never share one; a session's label is
its visit's id. Labels keep ASCII letters and digits only (BIDS: a label is alphanumeric); two
that still come out equal are told apart as the participants export does ("dup2", ...).

An image loaded from a BIDS tree keeps its own datatype folder, suffix and entities (task, acq,
dir, echo, ...); any other image gets them from its type (IMAGE_TYPE_NAMES). Images of one
subject, session, datatype, entities and suffix are numbered `run-1`, `run-2`, ... in the order
of their storage keys (any run they had is replaced); a lone image keeps its own run, if any.
"""
from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.query.participants import NOT_ALPHANUMERIC, participant_labels

NIFTI_EXTENSIONS = (".nii.gz", ".nii")
# The datatype folders of raw BIDS whose names an image may keep from its source tree.
DATATYPES = frozenset({"anat", "func", "dwi", "fmap", "perf"})
# Image type -> (datatype, suffix, entities) for an image whose source name is not BIDS. A
# field map is left out: which of BIDS' field-map suffixes it is cannot be told from its type.
IMAGE_TYPE_NAMES: dict[str, tuple[str, str, dict[str, str]]] = {
    "T1": ("anat", "T1w", {}),
    "DWI": ("dwi", "dwi", {}),
    "rsfMRI": ("func", "bold", {"task": "rest"}),
}
# The order BIDS gives entities in a file name (after sub and ses); others are not kept.
ENTITY_ORDER = ("task", "acq", "ce", "trc", "stain", "rec", "dir", "run", "mod", "echo", "flip",
                "inv", "mt", "part", "chunk")
# `sub-01_ses-1_task-rest_bold.nii.gz`: key-value parts, then the suffix, then the extension.
BIDS_NAME = re.compile(r"^((?:[a-zA-Z]+-[a-zA-Z0-9]+_)+)([a-zA-Z0-9]+)(\.nii(?:\.gz)?)$")


class NoBidsName(ValueError):
    """An image that has no place in a BIDS dataset (its type has no BIDS name)."""


@dataclass(frozen=True)
class BidsTarget:
    """Where one image goes: its datatype folder, entities (without sub, ses), suffix and
    extension."""

    datatype: str
    entities: tuple[tuple[str, str], ...]
    suffix: str
    extension: str

    def with_run(self, run: str | None) -> BidsTarget:
        """The same target with entity `run` set to `run` (or removed, for None)."""
        entities = {key: value for key, value in self.entities if key != "run"}
        if run is not None:
            entities["run"] = run
        return BidsTarget(self.datatype, _ordered(entities), self.suffix, self.extension)

    def path(self, subject: str, session: str) -> str:
        """The file's path in the dataset, e.g. `sub-X/ses-Y/anat/sub-X_ses-Y_T1w.nii.gz`."""
        name = "_".join([subject, session, *(f"{key}-{value}" for key, value in self.entities),
                         self.suffix])
        return f"{subject}/{session}/{self.datatype}/{name}{self.extension}"


def _ordered(entities: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((key, entities[key]) for key in ENTITY_ORDER if key in entities)


def source_name(key: str) -> tuple[dict[str, str], str, str] | None:
    """The (entities, suffix, extension) of a storage key's file name when it is a BIDS name
    of a NIfTI file under a datatype folder, else None."""
    folder, name = posixpath.split(key)
    match = BIDS_NAME.match(name)
    if match is None or posixpath.basename(folder) not in DATATYPES:
        return None
    entities = dict(part.split("-", 1) for part in match.group(1).rstrip("_").split("_"))
    return entities, match.group(2), match.group(3)


def bids_target(key: str, image_type: str) -> BidsTarget:
    """Where the NIfTI file stored at `key`, an image of type `image_type`, goes (no run
    numbering yet). Raises NoBidsName for a type without a BIDS name and no BIDS source."""
    parsed = source_name(key)
    if parsed is not None:
        entities, suffix, extension = parsed
        datatype = posixpath.basename(posixpath.dirname(key))
        return BidsTarget(datatype, _ordered(entities), suffix, extension)
    if image_type not in IMAGE_TYPE_NAMES:
        raise NoBidsName(f"an image of type {image_type} without a BIDS name in its source")
    datatype, suffix, entities = IMAGE_TYPE_NAMES[image_type]
    extension = next((ext for ext in NIFTI_EXTENSIONS if key.endswith(ext)), ".nii.gz")
    return BidsTarget(datatype, _ordered(entities), suffix, extension)


def subject_labels(keys: Sequence[tuple[str, str]]) -> list[str]:
    """A `sub-<label>` for each (study, subject id), never shared by two (see the module)."""
    return participant_labels([
        (study, NOT_ALPHANUMERIC.sub("", study) + external.removeprefix("sub-"))
        for study, external in keys])


def session_labels(visits: Sequence[str | None]) -> list[str]:
    """A `ses-<label>` for each visit id of one subject (None: images without a visit get
    `ses-novisit`), unique within the subject, in the order given."""
    labels = participant_labels([("", "novisit" if visit is None else visit)
                                 for visit in visits])
    return [label.replace("sub-", "ses-", 1) for label in labels]


@dataclass
class Placement:
    """An image to place: its id, storage key, subject and session labels and target."""

    image_id: int
    key: str
    subject: str
    session: str
    target: BidsTarget
    path: str = field(default="")


def number_runs(placements: Iterable[Placement]) -> list[Placement]:
    """Give each placement its path, numbering runs where several would share one (pure).

    Returns the placements in path order.
    """
    groups: dict[tuple, list[Placement]] = defaultdict(list)
    for placement in placements:
        base = placement.target.with_run(None)
        groups[(placement.subject, placement.session, base)].append(placement)
    placed = []
    for (subject, session, base), group in groups.items():
        if len(group) == 1:
            group[0].path = group[0].target.path(subject, session)
        else:
            for run, placement in enumerate(sorted(group, key=lambda p: p.key), start=1):
                placement.path = base.with_run(str(run)).path(subject, session)
        placed.extend(group)
    return sorted(placed, key=lambda placement: placement.path)
