"""dcm2niix on one DICOM series: run it, collect its outputs, match them to the image, and
read what its sidecar says about the series (the typing evidence beside the header rules).

Pure of the database and of storage: it works on local folders. The binary is the one the
pinned PyPI package `dcm2niix` ships.
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

# Fixed options: a BIDS sidecar (-b y) stripped of dates and identifying values (-ba y),
# gzipped NIfTI (-z y), outputs named image[_suffix] (-f), so that names never carry header
# text and one run's outputs are told apart by dcm2niix's own suffixes (_e2, _ph, ...).
OUTPUT_NAME = "image"
OPTIONS = ("-b", "y", "-ba", "y", "-z", "y", "-f", OUTPUT_NAME)
TIMEOUT_SECONDS = 600
NIFTI_SUFFIX = ".nii.gz"
# The other files of one output, by role, named like its NIfTI.
COMPANIONS = {"sidecar": ".json", "bval": ".bval", "bvec": ".bvec"}
# Sidecar fields kept as typing evidence: acquisition facts dcm2niix derives, often from a
# vendor's private attributes (phase encoding, readout time, slice timing aside).
EVIDENCE_FIELDS = ("BidsGuess", "Modality", "Manufacturer", "SeriesDescription", "ProtocolName",
                   "ImageType", "ScanningSequence", "SequenceVariant", "SequenceName",
                   "PulseSequenceDetails", "MRAcquisitionType", "EchoNumber", "EchoTime",
                   "RepetitionTime", "InversionTime", "FlipAngle", "PhaseEncodingDirection",
                   "TotalReadoutTime", "DiffusionScheme", "NonlinearGradientCorrection")
# BidsGuess (datatype, suffix) -> the image type it points at; a func "bold" is resting state
# only with a task-rest entity. Anything else points at no stored type.
GUESSED_TYPES = {("anat", "T1w"): "T1", ("dwi", "dwi"): "DWI",
                 **{("fmap", suffix): "FieldMap" for suffix in (
                     "phasediff", "magnitude", "magnitude1", "magnitude2", "phase1", "phase2",
                     "fieldmap", "epi")}}
REST = re.compile(r"(^|_)task-rest(_|$)", re.IGNORECASE)


class ConversionError(RuntimeError):
    """dcm2niix failed on a series, or wrote no NIfTI for it."""


def version() -> str:
    """The version of the dcm2niix package (and so of the binary it ships)."""
    return metadata.version("dcm2niix")


def binary() -> str:
    """The path of the dcm2niix binary of the pinned package."""
    import dcm2niix

    return dcm2niix.bin


@dataclass
class Output:
    """One NIfTI dcm2niix wrote, with its companions: {role: path}, and its sidecar read."""

    suffix: str             # dcm2niix's suffix after OUTPUT_NAME: "" , "e2", "e2_ph", ...
    files: dict[str, Path]
    sidecar: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """Which output is the image's own, the others of the run, and why."""

    primary: Output
    others: list[Output]
    note: str


def convert(source: Path, out: Path) -> list[Output]:
    """Run dcm2niix on the DICOM files in `source`, writing into `out`; return its outputs,
    by suffix. Raises ConversionError when it fails or writes no NIfTI."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run([binary(), *OPTIONS, "-o", str(out), str(source)],
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConversionError(f"dcm2niix did not run: {exc}") from exc
    outputs = collect(out)
    if done.returncode != 0 or not outputs:
        lines = [line for line in (done.stderr + done.stdout).splitlines()
                 if line.strip().lower().startswith(("error", "warning"))]
        raise ConversionError(f"dcm2niix exited with {done.returncode} and wrote "
                              f"{len(outputs)} NIfTI file(s)"
                              + (f": {'; '.join(lines[:3])}" if lines else ""))
    return outputs


def collect(folder: Path) -> list[Output]:
    """The outputs in a folder dcm2niix wrote into, each NIfTI with its companions."""
    outputs = []
    for nifti in sorted(folder.glob(f"{OUTPUT_NAME}*{NIFTI_SUFFIX}")):
        stem = nifti.name[:-len(NIFTI_SUFFIX)]
        files = {"nifti": nifti}
        for role, extension in COMPANIONS.items():
            companion = folder / f"{stem}{extension}"
            if companion.is_file():
                files[role] = companion
        sidecar = json.loads(files["sidecar"].read_text()) if "sidecar" in files else {}
        outputs.append(Output(stem[len(OUTPUT_NAME):].lstrip("_"), files, sidecar))
    return outputs


def _fits(output: Output, facts: dict[str, Any]) -> bool:
    """Whether an output is the part of the series whose facts these are: its echo and its
    magnitude or phase, when the facts name them."""
    sidecar = output.sidecar
    echo = facts.get("EchoNumbers")
    if echo is not None and sidecar.get("EchoNumber") is not None \
            and int(sidecar["EchoNumber"]) != int(echo):
        return False
    phase = "P" in facts.get("ImageType", []) or "PHASE" in facts.get("ImageType", [])
    return phase == ("_ph" in f"_{output.suffix}" or "PHASE" in sidecar.get("ImageType", []))


def match(outputs: list[Output], facts: dict[str, Any]) -> Match:
    """Pick the output the image stands for among dcm2niix's outputs for its files.

    One output is the image's. With several (echoes, magnitude and phase), the one whose echo
    and magnitude/phase fit the image's header facts; when none or several fit (the image
    stands for the whole series, e.g. both magnitudes of a field map), the first in dcm2niix's
    order is the image's NIfTI and the others are kept beside it, and the note says so.
    """
    if len(outputs) == 1:
        return Match(outputs[0], [], "one output")
    fitting = [output for output in outputs if _fits(output, facts)]
    names = ", ".join(output.suffix or "(none)" for output in outputs)
    if len(fitting) == 1:
        primary = fitting[0]
        note = (f"dcm2niix wrote {len(outputs)} outputs ({names}); {primary.suffix or '(none)'}"
                " fits the image's echo and magnitude/phase")
    else:
        primary = outputs[0]
        note = (f"dcm2niix wrote {len(outputs)} outputs ({names}) and {len(fitting) or 'none'}"
                f" fit the image's header: the image stands for all of them, "
                f"{primary.suffix or '(none)'} is its NIfTI, the others are kept beside it")
    return Match(primary, [output for output in outputs if output is not primary], note)


def guessed_type(guess: Any) -> str | None:
    """The image type a sidecar's BidsGuess ([datatype, "_entities_suffix"]) points at."""
    if not isinstance(guess, list) or len(guess) != 2 or not all(
            isinstance(part, str) for part in guess):
        return None
    datatype, name = guess
    suffix = name.rsplit("_", 1)[-1]
    if (datatype, suffix) == ("func", "bold"):
        return "rsfMRI" if REST.search(name) else None
    return GUESSED_TYPES.get((datatype, suffix))


def evidence(sidecar: dict[str, Any], rule_type: str | None) -> dict[str, Any]:
    """What dcm2niix says about a series, as typing evidence beside the rule's decision.

    The sidecar's acquisition fields and BidsGuess, the type the guess points at, and whether
    it agrees with the type the header rules gave (None: dcm2niix made no guess).
    """
    kept = {name: sidecar[name] for name in EVIDENCE_FIELDS if name in sidecar}
    guess = guessed_type(sidecar.get("BidsGuess")) if "BidsGuess" in sidecar else None
    agrees = None if "BidsGuess" not in sidecar else guess == rule_type
    return {"sidecar": kept, "guessed_type": guess, "agrees": agrees}
