"""The SALD-shaped example data: demographic_information.csv and a BIDS tree of T1 and
resting-state scans."""
from __future__ import annotations

import random
from pathlib import Path

from load_db.examples import BOLD_SHAPE, SEED, T1_SHAPE, Writer, nifti_bytes, scanner_sidecar

# (Sub_ID, Sex, Age, Edinburgh score, has a resting-state scan, has a T1): blank cells are
# unknown; 031279 has a T1 only (as one SALD participant has), 031283 no scan at all.
SALD_SUBJECTS = (
    ("031274", "Female", "23", "90", True, True),
    ("031275", "Male", "67", "100", True, True),
    ("031276", "Female", "45", "-60", True, True),
    ("031277", "Male", "", "35", True, True),
    ("031278", "Female", "71", "", True, True),
    ("031279", "", "52", "80", False, True),
    ("031283", "Male", "19", "75", False, False),
)
# All SALD scans were acquired on a 3T Siemens Trio (Wei et al. 2018).
SALD_TRIO = scanner_sidecar("Siemens", "TrioTim", 3)


def write_example(out_dir: Path) -> list[Path]:
    """Write the SALD-shaped example under out_dir; return the files written."""
    rng = random.Random(f"{SEED}-sald")
    w = Writer(Path(out_dir))
    w.table("demographic_information.csv", ("Sub_ID", "Sex", "Age", "Edinburgh_Handedness"),
            [row[:4] for row in SALD_SUBJECTS])
    w.json("BIDS/dataset_description.json",
           {"Name": "SALD (MBID-db example)", "BIDSVersion": "1.8.0"})
    w.json("BIDS/T1w.json", {**SALD_TRIO, "RepetitionTime": 1.9})
    w.json("BIDS/task-rest_bold.json", {**SALD_TRIO, "RepetitionTime": 2.0,
                                        "TaskName": "rest"})
    for label, *_, rest, t1 in SALD_SUBJECTS:
        name = f"sub-{label}"
        if t1:
            w.bytes(f"BIDS/{name}/anat/{name}_T1w.nii.gz", nifti_bytes(T1_SHAPE, 1.0, rng))
        if rest:
            w.bytes(f"BIDS/{name}/func/{name}_task-rest_bold.nii.gz",
                    nifti_bytes(BOLD_SHAPE, 3.4, rng))
    # A localiser series left in the tree: no MBID image type, so reported as ignored.
    w.bytes("BIDS/sub-031275/anat/sub-031275_acq-localizer_T2w.nii.gz",
            nifti_bytes(T1_SHAPE, 1.0, rng))
    return w.written
