"""The Cam-CAN-shaped example data: standard_data.csv and a BIDS tree without sessions."""
from __future__ import annotations

import random
from pathlib import Path

from load_db.examples import (
    BOLD_SHAPE,
    DWI_SHAPE,
    SEED,
    T1_SHAPE,
    Writer,
    nifti_bytes,
    scanner_sidecar,
)

# (CCID, Sex, Hand (laterality quotient), Age, images written): blank cells are unknown;
# CC120002 took part in the interview only, so its one visit has no image.
CAMCAN_SUBJECTS = (
    ("CC110033", "MALE", "100", "24", ("T1w", "dwi", "rest", "fmap")),
    ("CC110037", "FEMALE", "-73.33", "18", ("T1w", "dwi", "rest")),
    ("CC110045", "FEMALE", "26.67", "25", ("T1w", "rest", "fmap")),
    ("CC210051", "MALE", "", "31", ("T1w", "dwi")),
    ("CC310086", "MALE", "86.67", "", ("T1w", "rest")),
    ("CC520055", "FEMALE", "60", "58", ("T1w", "dwi", "rest", "fmap")),
    ("CC721292", "", "93.33", "84", ("T1w",)),
    ("CC120002", "FEMALE", "-100", "22", ()),
)
# All cc700 MRI was acquired on one 3T Siemens TIM Trio (Taylor et al. 2017).
CAMCAN_TRIO = scanner_sidecar("Siemens", "TrioTim", 3)
FMAP_SHAPE = (4, 4, 3)


def write_example(out_dir: Path) -> list[Path]:
    """Write the Cam-CAN-shaped example under out_dir; return the files written."""
    rng = random.Random(f"{SEED}-camcan")
    w = Writer(Path(out_dir))
    w.table("standard_data.csv", ("CCID", "Sex", "Hand", "Age"),
            [row[:4] for row in CAMCAN_SUBJECTS])
    w.json("BIDS/dataset_description.json",
           {"Name": "Cam-CAN cc700 MRI (MBID-db example)", "BIDSVersion": "1.8.0"})
    # Top-level sidecars apply to every matching file below them (BIDS inheritance).
    w.json("BIDS/T1w.json", {**CAMCAN_TRIO, "RepetitionTime": 2.25, "InversionTime": 0.9})
    w.json("BIDS/task-Rest_bold.json", {**CAMCAN_TRIO, "RepetitionTime": 1.97,
                                        "TaskName": "Rest"})
    w.json("BIDS/magnitude1.json", CAMCAN_TRIO)
    # BIDS requires the two echo times of a phase-difference map (made-up example values).
    w.json("BIDS/phasediff.json", {**CAMCAN_TRIO, "EchoTime1": 0.00519, "EchoTime2": 0.00765})
    for ccid, *_, kinds in CAMCAN_SUBJECTS:
        stem = f"BIDS/sub-{ccid}"
        name = f"sub-{ccid}"
        if "T1w" in kinds:
            w.bytes(f"{stem}/anat/{name}_T1w.nii.gz", nifti_bytes(T1_SHAPE, 1.0, rng))
        if "dwi" in kinds:
            w.bytes(f"{stem}/dwi/{name}_dwi.nii.gz", nifti_bytes(DWI_SHAPE, 2.0, rng))
            w.json(f"{stem}/dwi/{name}_dwi.json", CAMCAN_TRIO)
        if "rest" in kinds:
            w.bytes(f"{stem}/func/{name}_task-Rest_bold.nii.gz",
                    nifti_bytes(BOLD_SHAPE, 3.0, rng))
        if "fmap" in kinds:
            for suffix in ("magnitude1", "phasediff"):
                w.bytes(f"{stem}/fmap/{name}_run-01_{suffix}.nii.gz",
                        nifti_bytes(FMAP_SHAPE, 3.0, rng))
    # Not stored by MBID-db, so reported as ignored: a T2w and a movie-watching run.
    w.bytes("BIDS/sub-CC110033/anat/sub-CC110033_T2w.nii.gz", nifti_bytes(T1_SHAPE, 1.0, rng))
    w.bytes("BIDS/sub-CC520055/func/sub-CC520055_task-Movie_bold.nii.gz",
            nifti_bytes(BOLD_SHAPE, 3.0, rng))
    return w.written
