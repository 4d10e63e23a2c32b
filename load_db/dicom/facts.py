"""The acquisition facts of a series, from its representative header: what rules judge and
what an image stores as metadata.

Only acquisition parameters are taken: this whitelist is what keeps names, dates, institutions
and every other identifying value of a header out of the database.
"""
from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from load_db.dicom.headers import GE_BVALUE_OFFSET, PRIVATE_BVALUES, STANDARD_BVALUE, first_number

# Header keywords copied as they are (text, or lists of text).
TEXT_FACTS = ("Modality", "SeriesDescription", "ProtocolName", "SequenceName",
              "PulseSequenceName", "MRAcquisitionType", "EchoPulseSequence",
              "AcquisitionContrast", "ComplexImageComponent")
LIST_FACTS = ("ImageType", "ScanningSequence", "SequenceVariant")
NUMBER_FACTS = ("RepetitionTime", "EchoTime", "InversionTime", "FlipAngle",
                "MagneticFieldStrength")
WHOLE_NUMBER_FACTS = ("EchoNumbers", "SeriesNumber")
# Where enhanced multi-frame files keep the same values: (functional group, item keyword).
ENHANCED_NUMBERS = {
    "RepetitionTime": ("MRTimingAndRelatedParametersSequence", "RepetitionTime"),
    "FlipAngle": ("MRTimingAndRelatedParametersSequence", "FlipAngle"),
    "EchoTime": ("MREchoSequence", "EffectiveEchoTime"),
    "InversionTime": ("MRModifierSequence", "InversionTimes"),
}
ENHANCED_TEXT = {"InversionRecovery": ("MRModifierSequence", "InversionRecovery"),
                 "PhaseEncodingDirection": ("MRFOVGeometrySequence",
                                            "InPlanePhaseEncodingDirection"),
                 "FrameType": ("MRImageFrameTypeSequence", "FrameType")}


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return [_plain(item) for item in value]
    if isinstance(value, int | float | str):
        return value
    return str(value).strip()


def _number(value: Any) -> float | None:
    number = first_number(value)
    return round(number, 6) if number is not None else None


def _group_value(dataset: Dataset, group: str, keyword: str) -> Any:
    """A value of the shared functional groups, else of the first frame's."""
    for sequence in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = dataset.get(sequence)
        if not groups:
            continue
        items = groups[0].get(group)
        if items and keyword in items[0]:
            return items[0].get(keyword)
    return None


def _frame_items(dataset: Dataset, group: str) -> list[Dataset]:
    frames = dataset.get("PerFrameFunctionalGroupsSequence") or []
    return [frame.get(group)[0] for frame in frames if frame.get(group)]


def file_bvalues(dataset: Dataset) -> set[float]:
    """Every diffusion b-value of one file: standard, per frame, or the vendor's private tag."""
    values = {first_number(item.get("DiffusionBValue"))
              for item in _frame_items(dataset, "MRDiffusionSequence")}
    if STANDARD_BVALUE in dataset:
        values.add(first_number(dataset[STANDARD_BVALUE].value))
    vendor = str(dataset.get("Manufacturer", "")).upper()
    for name, tag in PRIVATE_BVALUES.items():
        if vendor.startswith(name) and tag in dataset:
            value = first_number(dataset[tag].value)
            if value is not None and name == "GE":
                value %= GE_BVALUE_OFFSET
            values.add(value)
    return {round(value, 3) for value in values if value is not None}


def series_facts(dataset: Dataset) -> dict[str, Any]:
    """The acquisition facts of one representative header, as plain JSON-ready values."""
    facts: dict[str, Any] = {}
    for keyword in TEXT_FACTS:
        facts[keyword] = _plain(str(dataset.get(keyword, "")).strip())
    for keyword in LIST_FACTS:
        value = dataset.get(keyword)
        if value is not None and not isinstance(value, list | tuple) \
                and type(value).__name__ != "MultiValue":
            value = [value]
        facts[keyword] = [str(item).strip().upper() for item in value] if value else []
    for keyword in NUMBER_FACTS:
        facts[keyword] = _number(dataset.get(keyword))
    for keyword in WHOLE_NUMBER_FACTS:
        number = _number(dataset.get(keyword))
        facts[keyword] = int(number) if number is not None else None
    for keyword, (group, item) in ENHANCED_NUMBERS.items():
        if facts.get(keyword) is None:
            facts[keyword] = _number(_group_value(dataset, group, item))
    for keyword, (group, item) in ENHANCED_TEXT.items():
        value = _group_value(dataset, group, item)
        facts[keyword] = _plain(value)
    if facts["PhaseEncodingDirection"] is None:
        facts["PhaseEncodingDirection"] = _plain(
            str(dataset.get("InPlanePhaseEncodingDirection", "")).strip())
    sop_class = str(dataset.get("SOPClassUID", ""))
    facts["SOPClassUID"] = sop_class
    facts["SOPClassName"] = UID(sop_class).name if sop_class else None
    spacing = dataset.get("PixelSpacing") or _group_value(dataset, "PixelMeasuresSequence",
                                                          "PixelSpacing")
    thickness = dataset.get("SliceThickness") or _group_value(dataset, "PixelMeasuresSequence",
                                                              "SliceThickness")
    voxel = [_number(value) for value in (list(spacing) if spacing else [None, None])]
    facts["VoxelSize"] = [*voxel, _number(thickness)] if spacing or thickness else None
    rows, columns = dataset.get("Rows"), dataset.get("Columns")
    facts["Matrix"] = [int(rows), int(columns)] if rows and columns else None
    facts["Frames"] = int(dataset.get("NumberOfFrames") or 1)
    facts["TemporalPositions"] = _number(dataset.get("NumberOfTemporalPositions"))
    facts["Enhanced"] = "PerFrameFunctionalGroupsSequence" in dataset
    facts["BValues"] = sorted(file_bvalues(dataset))
    return {key: value for key, value in facts.items() if value not in (None, "", [], False)}


def may_be_diffusion(facts: dict[str, Any]) -> bool:
    """Whether the b-values of every file are worth reading (a rule needs them).

    The representative may be a b=0 volume: spin-echo EPI and anything the header calls
    diffusion get their other files read too. DERIVED images (ADC, FA maps) are not: no rule
    types them by their b-values, and their per-frame groups are costly to read.
    """
    if facts.get("ImageType", [""])[0] == "DERIVED":
        return False
    scanning = set(facts.get("ScanningSequence", []))
    words = " ".join([*facts.get("ImageType", []), facts.get("AcquisitionContrast", ""),
                      facts.get("PulseSequenceName", "")]).upper()
    return ({"EP", "SE"} <= scanning or "DIFFUSION" in words or "EPSE" in words
            or "EP_B" in str(facts.get("SequenceName", "")).upper())
