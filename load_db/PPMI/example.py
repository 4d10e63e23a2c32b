"""The PPMI-shaped example data: the clinical tables, the imaging list and NIfTI downloads."""
from __future__ import annotations

import random
import re
from pathlib import Path

from load_db.examples import (
    BOLD_SHAPE,
    DWI_SHAPE,
    SEED,
    T1_SHAPE,
    Writer,
    nifti_bytes,
)

# (PATNO, COHORT, COHORT_DEFINITION, ENROLL_AGE, SEX, HANDED). 3005 is in the SWEDD cohort,
# which the mapping leaves unknown; 3006's handedness was not recorded.
PPMI_PARTICIPANTS = (
    ("3001", 1, "Parkinson's Disease", 61.3, 1, 1),
    ("3002", 1, "Parkinson's Disease", 58.2, 0, 1),
    ("3003", 2, "Healthy Control", 64.0, 0, 2),
    ("3004", 4, "Prodromal", 67.5, 1, 1),
    ("3005", 3, "SWEDD", 55.1, 1, 3),
    ("3006", 1, "Parkinson's Disease", 70.4, 0, None),
    ("3007", 1, "Parkinson's Disease", 49.8, 1, 1),
)
# MDS-UPDRS part III exams: (PATNO, EVENT_ID, INFODT, PDSTATE, NP3TOT, NHY). 3001 was examined
# at screening and baseline (the baseline exam counts) and off and on medication at V04 (the
# off exam counts); 3006's baseline total is blank and its V04 has no images.
PPMI_UPDRS3 = (
    ("3001", "SC", "01/2012", "", 25, 2), ("3001", "BL", "03/2012", "", 28, 2),
    ("3001", "V04", "03/2013", "OFF", 24, 2), ("3001", "V04", "03/2013", "ON", 18, 2),
    ("3001", "V06", "04/2014", "OFF", 40, 3),
    ("3002", "BL", "05/2012", "", 12, 1), ("3002", "V04", "05/2013", "", 18, 1),
    ("3003", "BL", "02/2012", "", 24, 0),
    ("3004", "BL", "06/2012", "", 9, 0), ("3004", "V04", "06/2013", "", 21, 1),
    ("3005", "BL", "07/2012", "", 30, 1),
    ("3006", "BL", "04/2012", "", None, 2), ("3006", "V04", "04/2013", "OFF", 33, 2),
    ("3007", "BL", "09/2012", "", 26, 2),
)
# MoCA: (PATNO, EVENT_ID, INFODT, MCATOT); 3004's screening total is blank.
PPMI_MOCA = (
    ("3001", "SC", "01/2012", 27), ("3002", "SC", "03/2012", 29), ("3003", "SC", "01/2012", 30),
    ("3004", "SC", "05/2012", None), ("3006", "V04", "04/2013", 22), ("3007", "SC", "08/2012", 28),
)
# The imaging list: (Image Data ID, Subject ID, Visit, Research Group, Modality, Description,
# Acq Date, downloaded). I100006 is a FLAIR (not stored); I100013's visit (Month 6) has no
# clinical exam; I100014 was listed but not downloaded.
PPMI_IMAGES = (
    ("I100001", "3001", "Baseline", "PD", "MRI", "MPRAGE GRAPPA", "3/20/2012", True),
    ("I100002", "3001", "Baseline", "PD", "DTI", "DTI_gated", "3/20/2012", True),
    ("I100003", "3001", "Baseline", "PD", "fMRI", "rsfMRI_RL", "3/20/2012", True),
    ("I100004", "3001", "Month 12", "PD", "MRI", "SAG 3D MPRAGE", "3/14/2013", True),
    ("I100005", "3001", "Month 24", "PD", "MRI", "3D T1-weighted", "4/11/2014", True),
    ("I100006", "3001", "Month 24", "PD", "MRI", "AX T2 FLAIR", "4/11/2014", True),
    ("I100007", "3002", "Baseline", "PD", "MRI", "MPRAGE GRAPPA", "5/22/2012", True),
    ("I100008", "3002", "Month 12", "PD", "MRI", "MPRAGE GRAPPA", "5/20/2013", True),
    ("I100009", "3003", "Baseline", "Control", "MRI", "MPRAGE GRAPPA", "2/15/2012", True),
    ("I100010", "3004", "Month 12", "Prodromal", "MRI", "SAG 3D T1 FSPGR", "6/18/2013", True),
    ("I100011", "3005", "Baseline", "SWEDD", "MRI", "MPRAGE GRAPPA", "7/9/2012", True),
    ("I100012", "3006", "Baseline", "PD", "MRI", "MPRAGE GRAPPA", "4/12/2012", True),
    ("I100013", "3007", "Month 6", "PD", "MRI", "MPRAGE GRAPPA", "3/19/2013", True),
    ("I100014", "3007", "Month 12", "PD", "DTI", "DTI_gated", "9/10/2013", False),
)
PPMI_STATUS_HEADER = ("PATNO", "COHORT", "COHORT_DEFINITION", "ENROLL_DATE", "ENROLL_STATUS",
                      "ENROLL_AGE")
PPMI_DEMOGRAPHICS_HEADER = ("REC_ID", "PATNO", "EVENT_ID", "PAG_NAME", "INFODT", "SEX",
                            "HANDED")
PPMI_UPDRS3_HEADER = ("REC_ID", "PATNO", "EVENT_ID", "PAG_NAME", "INFODT", "PDSTATE", "NP3TOT",
                      "NHY")
PPMI_MOCA_HEADER = ("REC_ID", "PATNO", "EVENT_ID", "PAG_NAME", "INFODT", "MCATOT")
PPMI_IMAGING_HEADER = ("Image Data ID", "Subject ID", "Visit", "Research Group", "Modality",
                       "Description", "Acq Date")
SHAPES = {"MRI": T1_SHAPE, "DTI": DWI_SHAPE, "fMRI": BOLD_SHAPE}
PAGE = {"": "NUPDRS3", "OFF": "NUPDR3OF", "ON": "NUPDR3ON"}


def ppmi_image_path(subject: str, description: str, acquired: str, image: str) -> str:
    """A NIfTI download's path under images/, as the image archive lays its downloads out:
    <PATNO>/<description>/<acquisition time>/<Image Data ID>/<file>."""
    month, day, year = (int(part) for part in acquired.split("/"))
    folder = re.sub(r"[^A-Za-z0-9-]+", "_", description)
    stamp = f"{year:04d}-{month:02d}-{day:02d}_10_00_00.0"
    return (f"images/{subject}/{folder}/{stamp}/{image}/"
            f"PPMI_{subject}_MR_{folder}_br_raw_{year:04d}{month:02d}{day:02d}_1_{image}.nii.gz")


def write_example(out_dir: Path) -> list[Path]:
    """Write the PPMI-shaped example under root/PPMI; return the files written."""
    rng = random.Random(f"{SEED}-PPMI")
    w = Writer(Path(out_dir))
    first_month = {}
    for subject, _, month, *_ in PPMI_UPDRS3:
        first_month.setdefault(subject, month)
    w.table("Participant_Status.csv", PPMI_STATUS_HEADER,
            [(subject, cohort, definition, first_month[subject], "Enrolled", age)
             for subject, cohort, definition, age, _, _ in PPMI_PARTICIPANTS])
    w.table("Demographics.csv", PPMI_DEMOGRAPHICS_HEADER,
            [(1000 + n, subject, "SC", "SCREEN", first_month[subject], sex, handed)
             for n, (subject, _, _, _, sex, handed) in enumerate(PPMI_PARTICIPANTS)])
    w.table("MDS-UPDRS_Part_III.csv", PPMI_UPDRS3_HEADER,
            [(2000 + n, subject, event, PAGE[state], month, state, total, stage)
             for n, (subject, event, month, state, total, stage) in enumerate(PPMI_UPDRS3)])
    w.table("Montreal_Cognitive_Assessment__MoCA_.csv", PPMI_MOCA_HEADER,
            [(3000 + n, subject, event, "MOCA", month, total)
             for n, (subject, event, month, total) in enumerate(PPMI_MOCA)])
    w.table("PPMI_imaging_list.csv", PPMI_IMAGING_HEADER,
            [row[:-1] for row in PPMI_IMAGES])
    for image, subject, _, _, modality, description, acquired, downloaded in PPMI_IMAGES:
        if downloaded:
            w.bytes(ppmi_image_path(subject, description, acquired, image),
                    nifti_bytes(SHAPES[modality], 1.0, rng))
    return w.written
