"""The ADNI-shaped example data: ADNIMERGE.csv, an IDA image collection CSV and its NIfTI files."""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from load_db.examples import BOLD_SHAPE, DWI_SHAPE, SEED, T1_SHAPE, Writer, between, nifti_bytes
from load_db.loni.collection import COLLECTION_COLUMNS, image_path, loni_date

MERGE_HEADER = ("RID", "COLPROT", "ORIGPROT", "PTID", "SITE", "VISCODE", "EXAMDATE", "DX_bl",
                "AGE", "PTGENDER", "PTEDUCAT", "APOE4", "MMSE", "CDRSB", "ADAS11", "ADAS13",
                "MOCA", "FAQ", "DX")
FIRST_IMAGE_ID = 40001

# (PTID, RID, phase, PTGENDER, PTEDUCAT, APOE4, AGE, DX_bl, baseline EXAMDATE,
#  visits [(VISCODE, days after baseline, DX, MMSE)],
#  images [(Visit cell, days after baseline, Description)])
# Edge cases: screening scans (sc, scmri) before the baseline exam; 011_S_0003 is older than
# 80; 023_S_4310 turns 60 between its scans; 022_S_4205's m24 visit has a diagnosis outside
# the mapping (an old ADNIMERGE conversion label) and no MMSE, and its m24 scan has no MMSE
# within a year; 067_S_6004's m12 DX is blank; 100_S_6123's m24 scan has no ADNIMERGE row
# (linked by its day) and one of its images was not downloaded; 100_S_6200 has no images.
ADNI_SUBJECTS = (
    ("011_S_0002", 2, "ADNI1", "Male", 16, 0, 74.3, "CN", date(2005, 9, 8),
     [("bl", 0, "CN", 29), ("m06", 182, "CN", 28), ("m12", 371, "CN", 29),
      ("m24", 730, "MCI", 25)],
     [("sc", -14, "MPRAGE"), ("sc", -14, "Axial PD/T2 FSE"), ("m12", 380, "MPRAGE")]),
    ("011_S_0003", 3, "ADNI1", "Male", 18, 1, 81.3, "AD", date(2005, 9, 12),
     [("bl", 0, "Dementia", 20), ("m06", 190, "Dementia", 19), ("m12", 365, "Dementia", 18)],
     [("sc", -10, "MPRAGE"), ("m12", 372, "MPRAGE")]),
    ("022_S_4205", 4205, "ADNI2", "Female", 10, 1, 67.5, "LMCI", date(2011, 9, 20),
     [("bl", 0, "MCI", 23), ("m06", 183, "MCI", 22), ("m12", 365, "Dementia", 20),
      ("m24", 730, "MCI to Dementia", None)],
     [("scmri", -7, "MPRAGE"), ("scmri", -7, "Axial DTI"), ("m06", 190, "MPRAGE"),
      ("m24", 735, "MPRAGE")]),
    ("023_S_4310", 4310, "ADNI2", "Female", 14, 0, 58.2, "EMCI", date(2011, 11, 2),
     [("bl", 0, "MCI", 23), ("m06", 180, "MCI", 22), ("m36", 1095, "MCI", 21)],
     [("bl", 0, "MPRAGE"), ("m06", 185, "MPRAGE"), ("m36", 1100, "MPRAGE")]),
    ("067_S_6004", 6004, "ADNI3", "Female", 12, 2, 72.9, "AD", date(2017, 8, 15),
     [("bl", 0, "Dementia", 22), ("m12", 366, "", 21)],
     [("sc", -20, "Accelerated Sagittal MPRAGE"), ("sc", -20, "Axial rsfMRI (Eyes Open)"),
      ("sc", -20, "Sagittal 3D FLAIR"), ("m12", 370, "Accelerated Sagittal MPRAGE")]),
    ("100_S_6123", 6123, "ADNI3", "Male", 20, 0, 69.0, "SMC", date(2017, 10, 2),
     [("bl", 0, "CN", 30), ("m12", 365, "CN", 29)],
     [("sc", -5, "Accelerated Sagittal MPRAGE"), ("m12", 368, "Accelerated Sagittal MPRAGE"),
      ("m24", 740, "Accelerated Sagittal MPRAGE")]),
    ("100_S_6200", 6200, "ADNI3", "Female", 16, 1, 77.4, "CN", date(2018, 1, 10),
     [("bl", 0, "CN", 27)],
     []),
)
# Images the collection CSV lists but the download lacks: (PTID, Visit cell).
NOT_DOWNLOADED = {("100_S_6123", "m12")}
GROUPS = {"CN": "CN", "SMC": "CN", "EMCI": "MCI", "LMCI": "MCI", "AD": "AD"}
SHAPES = {"Axial DTI": DWI_SHAPE, "Axial rsfMRI (Eyes Open)": BOLD_SHAPE}




def merge_rows(rng: random.Random) -> list[list]:
    """ADNIMERGE's rows: one per visit, scores drawn from the seeded RNG."""
    rows = []
    for ptid, rid, phase, sex, education, apoe4, age, dx_bl, baseline, visits, _ in ADNI_SUBJECTS:
        for viscode, day, dx, mmse in visits:
            impaired = dx not in ("CN", "")
            cdrsb = between(rng, 2, 12, 0) / 2 if impaired else 0.0  # half points
            adas11 = between(rng, 10, 30) if impaired else between(rng, 2, 9)
            rows.append([
                rid, phase, phase, ptid, int(ptid[:3]), viscode,
                (baseline + timedelta(days=day)).isoformat(), dx_bl, age, sex, education,
                apoe4, mmse, cdrsb, adas11, round(adas11 + between(rng, 3, 9), 2),
                None if phase == "ADNI1" else int(between(rng, 15, 29, 0)),
                int(between(rng, 3, 20, 0)) if impaired else 0, dx])
    return rows


def write_example(out_dir: Path) -> list[Path]:
    """Write the ADNI-shaped example under root/ADNI; return the files written."""
    rng = random.Random(f"{SEED}-ADNI")
    w = Writer(Path(out_dir))
    w.table("ADNIMERGE.csv", MERGE_HEADER, merge_rows(rng))
    collection, image_id = [], FIRST_IMAGE_ID
    for ptid, _, _, sex, _, _, age, dx_bl, baseline, _, images in ADNI_SUBJECTS:
        for visit, day, description in images:
            acquired, name = baseline + timedelta(days=day), f"I{image_id}"
            image_id += 1
            collection.append([name, ptid, GROUPS[dx_bl], sex[0], round(age + day / 365.25, 1),
                               visit, "MRI", description, "Original", loni_date(acquired),
                               "NiFTI"])
            if (ptid, visit) in NOT_DOWNLOADED and "MPRAGE" in description:
                continue
            w.bytes(image_path("ADNI", ptid, description, acquired, name),
                    nifti_bytes(SHAPES.get(description, T1_SHAPE), 1.2, rng))
    w.table("image_collection.csv", COLLECTION_COLUMNS, collection)
    return w.written
