"""Predicting an image's type name from its header (RADIFOX-style names, see app/names).

`predict_name` reads a plain dict of header values, so it serves both a BIDS sidecar (merged,
as the BIDS loader stores it in image.metadata_json) and a DICOM header as the DICOM adapter
stores it (SeriesDescription, ProtocolName, ImageType, ScanningSequence, SequenceVariant,
SequenceName, MRAcquisitionType, ImageOrientationPatient, ContrastBolusAgent, b-values). A hint
(the BIDS suffix, else the image type) fills what the header does not say. Components the
evidence leaves open are UNK, as in RADIFOX.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.names import UNKNOWN

BODYPARTS = {"HEAD": "BRAIN", "BRAIN": "BRAIN", "CSPINE": "CSPINE", "TSPINE": "TSPINE",
             "LSPINE": "LSPINE", "SPINE": "SPINE", "ORBIT": "ORBITS", "ORBITS": "ORBITS",
             "CHEST": "CHEST", "ABDOMEN": "ABDOMEN", "PELVIS": "PELVIS"}
# MBID-db holds brain imaging: a header that names no body part is a brain image.
DEFAULT_BODYPART = "BRAIN"

# Words of the series description or protocol name, first match wins (order matters: FLAIR
# before T2, T2* before T2).
MODALITY_WORDS = (
    (r"FLAIR", "FLAIR"), (r"STIR", "STIR"), (r"T2\*|T2STAR|SWI", "T2STAR"),
    (r"DWI|DTI|DIFF|TENSOR|DIR\d+", "DIFF"), (r"MPRAGE|MP-?RAGE|T1|SPGR|TFL|BRAVO", "T1"),
    (r"T2", "T2"), (r"\bPD", "PD"), (r"TOF|ANGIO", "TOF"), (r"FLOW|PC_?MRA", "FLOW"),
    (r"\bMT\b", "MT"), (r"BOLD|FMRI|REST", "T2STAR"),
)
# What the BIDS suffix or the image type says about the modality when the words do not.
MODALITY_HINTS = {"T1w": "T1", "T1": "T1", "T2w": "T2", "FLAIR": "FLAIR", "PDw": "PD",
                  "T2starw": "T2STAR", "dwi": "DIFF", "DWI": "DIFF", "bold": "T2STAR",
                  "rsfMRI": "T2STAR"}
# Field maps are T2*-weighted gradient echoes, or T2-weighted spin-echo EPI (TOPUP pairs).
FIELD_MAP_HINTS = {"FieldMap", "phasediff", "phase1", "phase2", "magnitude", "magnitude1",
                   "magnitude2", "fieldmap", "epi"}
# Extras that name which part of a field map a file is.
EXTRAS_HINTS = {"magnitude": ("MAG",), "magnitude1": ("ECHO1", "MAG"),
                "magnitude2": ("ECHO2", "MAG"), "phase1": ("ECHO1", "PHA"),
                "phase2": ("ECHO2", "PHA"), "phasediff": ("PHA",), "fieldmap": ("FIELDMAP",)}
EPI_HINTS = {"dwi", "DWI", "bold", "rsfMRI", "epi"}
# When the sequence tags are absent, words of the description may still name the technique
# and the orientation.
TECHNIQUE_WORDS = ((r"MPRAGE|MP-?RAGE|TFL|BRAVO", "IRSPGR"), (r"SPGR", "SPGR"),
                   (r"EPI|BOLD|FMRI|DWI|DTI", "EPI"), (r"GRE", "GRE"), (r"TSE|FSE", "FSE"))
ORIENTATION_WORDS = ((r"\bAX(IAL)?\b", "AXIAL"), (r"\bSAG(ITTAL)?\b", "SAGITTAL"),
                     (r"\bCOR(ONAL)?\b", "CORONAL"))
CONTRAST_WORDS = re.compile(r"POST|GAD|\+C\b|W/C\b|CONTRAST")
B_VALUE_KEYS = ("DiffusionBValue", "bval", "BValue", "b_values")
DIFFUSION_B_MIN = 50


def _words(header: Mapping[str, Any]) -> str:
    return " ".join(str(header.get(key) or "") for key in ("SeriesDescription",
                                                           "ProtocolName")).upper()


def _list(value: Any) -> list[str]:
    """A DICOM multi-value as upper-case strings: a list, or one string separated by
    backslashes (DICOM) or underscores (BIDS sidecars written by dcm2niix: "GR_IR")."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [part.strip().upper() for item in items for part in re.split(r"[\\_]", str(item))
            if part.strip()]


def _first_word_match(words: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((value for pattern, value in table if re.search(pattern, words)), None)


def _spin_echo(header: Mapping[str, Any]) -> bool:
    name = str(header.get("SequenceName") or "").lower().lstrip("*")
    return "SE" in _list(header.get("ScanningSequence")) or name.startswith(("epse", "se"))


def _bodypart(header: Mapping[str, Any]) -> str:
    value = str(header.get("BodyPartExamined") or "").upper().replace(" ", "")
    return BODYPARTS.get(value, UNKNOWN) if value else DEFAULT_BODYPART


def _has_diffusion(header: Mapping[str, Any]) -> bool:
    for key in B_VALUE_KEYS:
        values = header.get(key)
        values = values if isinstance(values, list | tuple) else [values]
        if any(isinstance(v, int | float) and v > DIFFUSION_B_MIN for v in values):
            return True
    return "DIFFUSION" in _list(header.get("ImageType"))


def _modality(header: Mapping[str, Any], hint: str | None) -> str:
    if _has_diffusion(header):
        return "DIFF"
    found = _first_word_match(_words(header), MODALITY_WORDS)
    if found:
        return found
    if hint in FIELD_MAP_HINTS:
        return "T2" if _spin_echo(header) else "T2STAR"
    return MODALITY_HINTS.get(hint or "", UNKNOWN)


def _technique(header: Mapping[str, Any], hint: str | None) -> str:
    sequence = set(_list(header.get("ScanningSequence")))
    variant = set(_list(header.get("SequenceVariant")))
    name = str(header.get("SequenceName") or "").lower().lstrip("*")
    image_type = set(_list(header.get("ImageType")))
    if "EP" in sequence or name.startswith(("ep", "re_ep")) or "EPI" in image_type:
        return "EPI"
    inversion = "IR" in sequence or "MP" in variant or name.startswith("tfl")
    if "GR" in sequence or name.startswith(("tfl", "fl", "fm", "gre")):
        spoiled = "SP" in variant or name.startswith("tfl")
        return ("IR" if inversion else "") + ("SPGR" if spoiled else "GRE")
    if "SE" in sequence or name.startswith(("tse", "se", "spc")):
        fast = name.startswith(("tse", "spc")) or int(header.get("EchoTrainLength") or 1) > 1
        return ("IR" if inversion else "") + ("FSE" if fast else "SE")
    found = _first_word_match(_words(header), TECHNIQUE_WORDS)
    if found:
        return found
    return "EPI" if hint in EPI_HINTS else UNKNOWN


def _acqdim(header: Mapping[str, Any], technique: str) -> str:
    value = str(header.get("MRAcquisitionType") or "").upper()
    if value in ("2D", "3D"):
        return value
    return "2D" if technique == "EPI" else UNKNOWN  # EPI reads slice by slice


def _orientation(header: Mapping[str, Any]) -> str:
    cosines = header.get("ImageOrientationPatient") or header.get("ImageOrientationPatientDICOM")
    try:
        row, column = [float(v) for v in cosines[:3]], [float(v) for v in cosines[3:6]]
    except (TypeError, ValueError):
        return _first_word_match(_words(header), ORIENTATION_WORDS) or UNKNOWN
    if len(row) != 3 or len(column) != 3:
        return _first_word_match(_words(header), ORIENTATION_WORDS) or UNKNOWN
    normal = [abs(row[1] * column[2] - row[2] * column[1]),
              abs(row[2] * column[0] - row[0] * column[2]),
              abs(row[0] * column[1] - row[1] * column[0])]
    return ("SAGITTAL", "CORONAL", "AXIAL")[normal.index(max(normal))]


def _excontrast(header: Mapping[str, Any]) -> str:
    agent = str(header.get("ContrastBolusAgent") or "").strip()
    return "POST" if agent or CONTRAST_WORDS.search(_words(header)) else "PRE"


def _extras(header: Mapping[str, Any], hint: str | None) -> tuple[str, ...]:
    if hint in EXTRAS_HINTS:
        return EXTRAS_HINTS[hint]
    if hint not in FIELD_MAP_HINTS:
        return ()
    image_type = _list(header.get("ImageType"))  # a DICOM field-map series: which part
    if "P" in image_type or "PHASE" in image_type:
        return ("PHA",)
    if "M" in image_type or "MAGNITUDE" in image_type:
        return ("MAG",)
    return ()


def predict_name(header: Mapping[str, Any] | None, hint: str | None = None) -> str:
    """Return the RADIFOX-style name of an image from its header values.

    `hint` is the BIDS suffix (T1w, dwi, bold, phasediff, magnitude1, epi, ...) or the image
    type (T1, DWI, rsfMRI, FieldMap); it decides only what the header leaves open.
    """
    header = header or {}
    technique = _technique(header, hint)
    parts = [_bodypart(header), _modality(header, hint), technique, _acqdim(header, technique),
             _orientation(header), _excontrast(header), *_extras(header, hint)]
    return "-".join(parts)


def bids_suffix(key: str) -> str | None:
    """The BIDS suffix of a file name (`sub-01_T1w.nii.gz` -> `T1w`), or None."""
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return stem.rsplit("_", 1)[-1] if "_" in stem else None


def name_hint(key: str, image_type: str) -> str:
    """What `predict_name` is told besides the header: the file's BIDS suffix when it is one
    the names know (a DICOM series folder such as `8_gre_field_mapping` has none), else the
    image type."""
    suffix = bids_suffix(key)
    known = suffix in MODALITY_HINTS or suffix in FIELD_MAP_HINTS or suffix in EXTRAS_HINTS
    return suffix if known else image_type
