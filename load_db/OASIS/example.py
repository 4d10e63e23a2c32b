"""The OASIS-3-shaped example data: subjects and clinical CSVs, MR sessions as BIDS under bids/."""
from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from load_db.examples import (
    BOLD_SHAPE,
    DWI_SHAPE,
    SEED,
    T1_SHAPE,
    Writer,
    between,
    nifti_bytes,
    scanner_sidecar,
)

TRIO = scanner_sidecar("Siemens", "TrioTim", 3, DeviceSerialNumber="35177")
MMR = scanner_sidecar("Siemens", "Biograph_mMR", 3, DeviceSerialNumber="51010")
SONATA = scanner_sidecar("Siemens", "Sonata", 1.5, DeviceSerialNumber="21926")

# (Subject, M/F, Hand, Education, ageAtEntry,
#  clinical visits [(day, cdr, dx1)], MR sessions [(day, scanner, extra scans)])
# Edge cases: OAS30003's first MR precedes every clinical visit (no visit); OAS30004 has several
# MR sessions between two clinical visits; same-day pairs (OAS30002 d0400, OAS30004 d0000,
# OAS30009 d0400, OAS30013 d0366); OAS30011's MR is 5 days before a clinical visit (links to
# the earlier one, never the later); OAS30006 has visits without images; OAS30012 has MR but
# no clinical data; OAS30013's first visit has no CDR (unknown diagnosis).
OASIS_SUBJECTS = (
    ("OAS30001", "F", "R", 12, 65.2,
     [(0, "0", "Cognitively normal"), (339, "0", "Cognitively normal"),
      (1106, "0.5", "uncertain dementia")],
     [(129, TRIO, ("dwi", "T2w")), (757, TRIO, ())]),
    ("OAS30002", "F", "R", 16, 71.4,
     [(0, "0.5", "AD Dementia"), (400, "1", "AD Dementia")],
     [(400, MMR, ()), (512, MMR, ())]),
    ("OAS30003", "M", "R", 18, 68.9,
     [(35, "0", "Cognitively normal"), (400, "0", "Cognitively normal")],
     [(0, SONATA, ()), (420, TRIO, ())]),
    ("OAS30004", "F", "L", 14, 77.0,
     [(0, "1", "AD Dementia"), (730, "2", "DAT")],
     [(0, TRIO, ("rest", "FLAIR")), (98, TRIO, ()), (251, TRIO, ()), (613, MMR, ())]),
    ("OAS30005", "M", "R", 20, 74.3,
     [(0, "1", "Non AD dem- Other primary"), (365, "1", "Frontotemporal demt. prim")],
     [(10, TRIO, ())]),
    ("OAS30006", "F", "R", 16, 62.0,
     [(0, "0", "Cognitively normal"), (512, "0", "Cognitively normal")],
     []),
    ("OAS30007", "M", "B", 12, 80.5,
     [(0, "1", ".")],
     [(100, SONATA, ())]),
    ("OAS30008", "F", "R", 13, 69.3,
     [(0, "0.5", "uncertain, possible AD"), (180, "1", "AD dem w/depresss- not contribut")],
     [(200, TRIO, ())]),
    ("OAS30009", "F", "R", 15, 72.8,
     [(0, "1", "uncertain- possible NON AD dem"), (400, "2", "Vascular Demt- primary")],
     [(400, TRIO, ())]),
    ("OAS30010", "M", "R", 16, 66.1,
     [(0, "0", "No dementia")],
     [(0, TRIO, ()), (1500, MMR, ())]),
    ("OAS30011", "F", "R", 18, 61.7,
     [(0, "0.5", "0.5 in memory only"), (370, "3", "DAT w/depresss not contribut")],
     [(365, MMR, ())]),
    ("OAS30012", "M", "L", 17, None,
     [],
     [(0, TRIO, ())]),
    ("OAS30013", "F", "R", 12, 75.5,
     [(0, "", ""), (366, "1", "AD Dementia")],
     [(366, TRIO, ("run2",))]),
    ("OAS30014", "M", "R", 14, 63.0,
     [(0, "0", "Cognitively normal")],
     [(40, TRIO, ())]),
)
# Clinical rows with measurements not taken: (subject, day) -> the blank columns.
OASIS_MISSING = {
    ("OAS30006", 512): ("height", "weight"),
    ("OAS30003", 35): ("height",),
    ("OAS30010", 0): ("weight",),
    ("OAS30013", 0): ("mmse",),
}
OASIS_SUBJECTS_HEADER = ("Subject", "M/F", "Hand", "Education")
OASIS_CLINICAL_HEADER = ("ADRC_ADRCCLINICALDATA ID", "Subject", "ageAtEntry", "Age", "mmse",
                         "cdr", "dx1", "height", "weight")
OASIS_BIDS = "bids"


def oasis_mr_session(w: Writer, rng: random.Random, subject: str, day: int,
                     scanner: dict[str, Any], extras: Sequence[str]) -> None:
    """Write one OASIS-3 MR session as BIDS: a T1w, plus the listed extra scans."""
    folder = f"{OASIS_BIDS}/sub-{subject}/ses-d{day:04d}"
    stem = f"sub-{subject}_ses-d{day:04d}"
    voxel = 1.0 if scanner["MagneticFieldStrength"] == 3 else 1.2
    runs = ("run-01_", "run-02_") if "run2" in extras else ("",)
    scans = [("anat", f"{run}T1w", T1_SHAPE, {"RepetitionTime": 2.4}) for run in runs]
    scans += [
        (datatype, suffix, shape, fields)
        for extra, (datatype, suffix, shape, fields) in {
            "T2w": ("anat", "T2w", T1_SHAPE, {"RepetitionTime": 3.2}),
            "FLAIR": ("anat", "FLAIR", T1_SHAPE, {"RepetitionTime": 9.0}),
            "dwi": ("dwi", "dwi", DWI_SHAPE, {"RepetitionTime": 11.0}),
            "rest": ("func", "task-rest_run-01_bold", BOLD_SHAPE,
                     {"RepetitionTime": 2.2, "TaskName": "rest"}),
        }.items() if extra in extras
    ]
    for datatype, suffix, shape, fields in scans:
        name = f"{folder}/{datatype}/{stem}_{suffix}"
        w.bytes(f"{name}.nii.gz", nifti_bytes(shape, voxel, rng))
        w.json(f"{name}.json", {**scanner, **fields})


def write_example(out_dir: Path) -> list[Path]:
    """Write the OASIS-3-shaped example under root/OASIS; return the files written."""
    rng = random.Random(f"{SEED}-OASIS")
    w = Writer(Path(out_dir))
    w.table("OASIS3_subjects.csv", OASIS_SUBJECTS_HEADER,
            [(subject, sex, hand, education)
             for subject, sex, hand, education, *_ in OASIS_SUBJECTS])
    clinical = []
    for subject, _, _, _, age, visits, _ in OASIS_SUBJECTS:
        for day, cdr, dx1 in visits:
            impaired = cdr not in ("", "0")
            row = {
                "ADRC_ADRCCLINICALDATA ID": f"{subject}_ClinicalData_d{day:04d}",
                "Subject": subject, "ageAtEntry": age,
                "Age": round(age + day / 365.25, 1),
                "mmse": int(between(rng, 16, 26, 0) if impaired else between(rng, 27, 30, 0)),
                "cdr": cdr, "dx1": dx1,
                "height": between(rng, 60, 74, 0), "weight": between(rng, 110, 220, 0),
            }
            for column in OASIS_MISSING.get((subject, day), ()):
                row[column] = None
            clinical.append([row[column] for column in OASIS_CLINICAL_HEADER])
    w.table("OASIS3_clinical_data.csv", OASIS_CLINICAL_HEADER, clinical)
    w.json(f"{OASIS_BIDS}/dataset_description.json",
           {"Name": "OASIS-3 MR sessions (MBID-db example)", "BIDSVersion": "1.8.0"})
    w.table(f"{OASIS_BIDS}/participants.tsv", ("participant_id",),
            [(f"sub-{subject}",) for subject, *_, sessions in OASIS_SUBJECTS if sessions],
            delimiter="\t")
    for subject, *_, sessions in OASIS_SUBJECTS:
        for day, scanner, extras in sessions:
            oasis_mr_session(w, rng, subject, day, scanner, extras)
    return w.written
