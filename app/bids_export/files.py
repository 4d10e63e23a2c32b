"""The stored files an image is exported from, by role: the one place that says which they are.

`export_files` answers {role: storage key(s)} for one image:
- "nifti": the key of its NIfTI file;
- "sidecar": the keys of its JSON sidecars, least specific first (merged in that order into
  the exported sidecar; one key for a sidecar of its own, none when it has none);
- "bval", "bvec": the keys of its gradient files, or None.

An image loaded from a BIDS tree finds its sidecars and gradient files by BIDS inheritance among
the stored files of its dataset (`StoredSidecars`): those in its own folder or a folder above it,
up to the dataset's storage prefix, with its suffix and a subset of its entities; the nearest
folder wins, and within a folder the file with more entities. An image without a NIfTI file (a
DICOM series: a set of files) exports the files dcm2niix made of it (`flask convert`), and
has nothing to export before: None.
"""
from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from app.bids_export.names import NIFTI_EXTENSIONS, source_name

SIDECAR_EXTENSIONS = (".json", ".bval", ".bvec")
ROLES = ("nifti", "sidecar", "bval", "bvec")


def _sidecar_name(name: str) -> tuple[dict[str, str], str, str] | None:
    """(entities, suffix, extension) of a sidecar-like file name, None if it is not one."""
    stem, dot, extension = name.partition(".")
    extension = dot + extension
    if extension not in SIDECAR_EXTENSIONS or not stem:
        return None
    *parts, suffix = stem.split("_")
    pairs = [part.split("-", 1) for part in parts]
    if any(len(pair) != 2 or not all(pair) for pair in pairs):
        return None
    return dict(pairs), suffix, extension


class StoredSidecars:
    """The JSON, .bval and .bvec files among a dataset's stored keys, indexed for inheritance."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._by_folder: dict[tuple[str, str, str], list[tuple[dict[str, str], str]]] = (
            defaultdict(list))
        self._keys: set[str] = set()  # every sidecar-like key, BIDS-named or not
        for key in keys:
            folder, name = posixpath.split(key)
            if name.endswith(SIDECAR_EXTENSIONS):
                self._keys.add(key)
            parsed = _sidecar_name(name)
            if parsed is not None:
                entities, suffix, extension = parsed
                self._by_folder[(folder, suffix, extension)].append((entities, key))

    def applicable(self, key: str, extension: str, top: str) -> list[str]:
        """The keys of the files of `extension` that apply to the BIDS file at `key`, least
        specific first, from the folder `top` down to the file's folder. A file not named the
        BIDS way (HCP's release layout, say) has only its own: the file of the same name
        beside it, `<stem>.json`."""
        parsed = source_name(key)
        if parsed is None:
            stem = next((key[:-len(suffix)] for suffix in NIFTI_EXTENSIONS
                         if key.endswith(suffix)), key)
            return [f"{stem}{extension}"] if f"{stem}{extension}" in self._keys else []
        entities, suffix, _ = parsed
        found = []
        for folder in _folders_between(top.strip("/"), posixpath.dirname(key)):
            candidates = [(len(own), candidate)
                          for own, candidate in self._by_folder.get((folder, suffix, extension),
                                                                    ())
                          if own.items() <= entities.items()]
            found += [candidate for _, candidate in sorted(candidates)]
        return found


def _folders_between(top: str, folder: str) -> list[str]:
    """`top`, then each folder below it down to `folder` (`folder` itself last)."""
    below = folder[len(top):].strip("/") if top else folder
    folders = [top]
    for part in below.split("/") if below else []:
        folders.append(f"{folders[-1]}/{part}" if folders[-1] else part)
    return folders


def export_files(key: str, is_file_set: bool, sidecars: StoredSidecars, top: str,
                 converted: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The stored files of an image by role (see the module), or None when it has no NIfTI.

    `key` is the image's storage key, `is_file_set` whether it is stored as a set of files
    (a DICOM series), `sidecars` the stored sidecars of its dataset, `top` its dataset's
    storage prefix (inheritance stops there). `converted` holds the files dcm2niix made of a
    DICOM image ({role: key}, app/files/converted.py): they win, sidecar and gradients
    included, since a converted series has no BIDS neighbours.
    """
    if converted and converted.get("nifti"):
        return {"nifti": converted["nifti"],
                "sidecar": [converted["sidecar"]] if converted.get("sidecar") else [],
                "bval": converted.get("bval"), "bvec": converted.get("bvec")}
    if is_file_set or not key.endswith(NIFTI_EXTENSIONS):
        return None
    bval = sidecars.applicable(key, ".bval", top)
    bvec = sidecars.applicable(key, ".bvec", top)
    return {"nifti": key, "sidecar": sidecars.applicable(key, ".json", top),
            "bval": bval[-1] if bval else None, "bvec": bvec[-1] if bvec else None}
