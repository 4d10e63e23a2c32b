"""The HCP-Young-Adult-shaped example data: the behavioural CSV and one T1 per subject."""
from __future__ import annotations

import random
from pathlib import Path

from load_db.examples import (
    SEED,
    T1_SHAPE,
    Writer,
    between,
    nifti_bytes,
)

# (Subject, Gender, Age band, has a 3T T1); 103818 took part in the behavioural sessions only.
HCP_SUBJECTS = (
    ("100206", "M", "26-30", True),
    ("100307", "F", "26-30", True),
    ("100408", "M", "31-35", True),
    ("101107", "M", "22-25", True),
    ("101309", "M", "26-30", True),
    ("101915", "F", "31-35", True),
    ("102008", "M", "22-25", True),
    ("102311", "F", "26-30", True),
    ("102816", "F", "26-30", True),
    ("103111", "M", "22-25", True),
    ("103414", "F", "36+", True),
    ("103818", "F", "31-35", False),
)
HCP_BEHAVIOURAL = "unrestricted_behavioral.csv"
HCP_HEADER = ("Subject", "Release", "Acquisition", "Gender", "Age", "3T_Full_MR_Compl",
              "T1_Count", "MMSE_Score", "PSQI_Score")


def hcp_t1_path(subject: str) -> str:
    """The T1 of an HCP subject in the release layout, relative to the dataset folder."""
    return f"{subject}/unprocessed/3T/T1w_MPR1/{subject}_3T_T1w_MPR1.nii.gz"


def write_example(out_dir: Path) -> list[Path]:
    """Write the HCP-Young-Adult-shaped example under root/HCP; return the files written."""
    rng = random.Random(f"{SEED}-HCP")
    w = Writer(Path(out_dir))
    rows = [(subject, "S1200", f"Q{index % 13 + 1:02d}", gender, age,
             "TRUE" if scanned else "FALSE", int(scanned),
             int(between(rng, 27, 30, 0)), int(between(rng, 1, 9, 0)))
            for index, (subject, gender, age, scanned) in enumerate(HCP_SUBJECTS)]
    w.table(HCP_BEHAVIOURAL, HCP_HEADER, rows)
    for subject, _, _, scanned in HCP_SUBJECTS:
        if scanned:
            w.bytes(hcp_t1_path(subject), nifti_bytes(T1_SHAPE, 0.7, rng))
    return w.written
