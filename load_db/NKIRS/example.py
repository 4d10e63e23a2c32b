"""The NKI-RS-shaped example data: a BIDS tree with participants and sessions tables."""
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

# (participant, sex, handedness, sessions.tsv rows [(visit code, age, days since enrolment)],
#  scanned visits {visit code: kinds}); blank cells are unknown. A00035072 has no
# sessions.tsv, A00013809's FLU2 is in sessions.tsv without any scan.
NKIRS_SUBJECTS = (
    ("A00008326", "M", "R", [("BAS1", "64.0", "0"), ("FLU1", "65.5", "547"),
                             ("FLU2", "67.1", "1120")],
     {"BAS1": ("T1w", "dwi", "rest1400", "rest645"), "FLU1": ("T1w", "rest1400"),
      "FLU2": ("T1w", "dwi")}),
    ("A00010893", "F", "L", [("BAS1", "23.4", "0"), ("TRT", "23.5", "41")],
     {"BAS1": ("T1w", "dwi", "rest1400"), "TRT": ("T1w", "restCAP")}),
    ("A00013809", "F", "R", [("BAS1", "12.8", "3"), ("FLU1", "14.1", "489"),
                             ("FLU2", "15.2", "")],
     {"BAS1": ("T1w", "rest1400"), "FLU1": ("T1w", "dwi", "rest1400")}),
    ("A00018030", "M", "", [("BAS1", "", "0"), ("NFB3", "45.2", "60")],
     {"BAS1": ("T1w", "dwi"), "NFB3": ("rest1400",)}),
    ("A00027159", "", "R", [("BAS2", "38.9", "12")],
     {"BAS2": ("T1w", "dwi", "rest645")}),
    ("A00035072", "F", "L", None, {"BAS1": ("T1w",)}),
)
NKIRS_TRIO = scanner_sidecar("Siemens", "TrioTim", 3)
REST_RUNS = {"rest1400": ("acq-1400", 1.4), "rest645": ("acq-645", 0.645),
             "restCAP": ("acq-CAP", 2.5)}


def write_example(out_dir: Path) -> list[Path]:
    """Write the NKI-RS-shaped BIDS example under out_dir; return the files written."""
    rng = random.Random(f"{SEED}-nkirs")
    w = Writer(Path(out_dir))
    w.json("dataset_description.json",
           {"Name": "NKI-Rockland Sample (MBID-db example)", "BIDSVersion": "1.8.0"})
    w.table("participants.tsv", ("participant_id", "sex", "handedness"),
            [(f"sub-{p}", sex or "n/a", hand or "n/a") for p, sex, hand, *_ in NKIRS_SUBJECTS],
            delimiter="\t")
    w.json("participants.json", {
        "sex": {"Description": "sex of the participant", "Levels": {"M": "male",
                                                                    "F": "female"}},
        "handedness": {"Description": "dominant hand", "Levels": {"R": "right", "L": "left"}}})
    w.json("T1w.json", {**NKIRS_TRIO, "RepetitionTime": 1.9})
    w.json("dwi.json", NKIRS_TRIO)
    for acq, tr in REST_RUNS.values():
        w.json(f"task-rest_{acq}_bold.json", {**NKIRS_TRIO, "RepetitionTime": tr,
                                              "TaskName": "rest"})
    for p, _, _, sessions, scanned in NKIRS_SUBJECTS:
        if sessions is not None:
            w.table(f"sub-{p}/sub-{p}_sessions.tsv",
                    ("session_id", "age", "days_since_enrollment"),
                    [(f"ses-{code}", age or "n/a", days or "n/a") for code, age, days in sessions],
                    delimiter="\t")
        for code, kinds in scanned.items():
            stem, name = f"sub-{p}/ses-{code}", f"sub-{p}_ses-{code}"
            if "T1w" in kinds:
                w.bytes(f"{stem}/anat/{name}_T1w.nii.gz", nifti_bytes(T1_SHAPE, 1.0, rng))
            if "dwi" in kinds:
                w.bytes(f"{stem}/dwi/{name}_dwi.nii.gz", nifti_bytes(DWI_SHAPE, 2.0, rng))
            for kind in kinds:
                if kind in REST_RUNS:
                    w.bytes(f"{stem}/func/{name}_task-rest_{REST_RUNS[kind][0]}_bold.nii.gz",
                            nifti_bytes(BOLD_SHAPE, 3.0, rng))
    # A breath-hold task run: not resting state, so reported as ignored.
    w.bytes("sub-A00008326/ses-BAS1/func/sub-A00008326_ses-BAS1_task-breathhold_acq-1400_"
            "bold.nii.gz", nifti_bytes(BOLD_SHAPE, 3.0, rng))
    return w.written
