"""The AIBL-shaped example data: the ADNI-style clinical tables and an IDA image collection."""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from load_db.examples import SEED, T1_SHAPE, Writer, nifti_bytes
from load_db.loni.collection import COLLECTION_COLUMNS, image_path, loni_date

FIRST_IMAGE_ID = 70001
# (RID, SITEID, PTGENDER, year of birth, baseline EXAMDATE,
#  visits [(VISCODE, days after baseline, DXCURREN, MMSCORE, CDGLOBAL)],
#  images [(Visit name, days after baseline, Description)])
# Edge cases: RID 2 is older than 80; RID 4 turns 60 before its m72 scan; RID 3's m54
# diagnosis (7) is outside the mapping and its MMSE not available (-4), as is RID 5's m18
# MMSE, with no other MMSE within a year before the scans; RID 6's baseline diagnosis is not
# available and its 36 Month scan has no clinical rows (linked by its day); RID 7 has no
# image file (its one listed image was not downloaded).
AIBL_SUBJECTS = (
    (1, 1, 2, 1938, date(2007, 3, 12),
     [("bl", 0, 1, 29, 0), ("m18", 545, 1, 28, 0), ("m36", 1092, 2, 25, 0.5)],
     [("Baseline", 5, "MPRAGE"), ("36 Month", 1100, "MPRAGE")]),
    (2, 1, 1, 1925, date(2007, 4, 2),
     [("bl", 0, 3, 19, 1), ("m18", 550, 3, 17, 2)],
     [("Baseline", 3, "MPRAGE"), ("18 Month", 560, "MPRAGE")]),
    (3, 2, 2, 1945, date(2007, 5, 20),
     [("bl", 0, 2, 23, 0.5), ("m18", 548, 2, 22, 0.5), ("m36", 1096, 3, 20, 1),
      ("m54", 1640, 7, -4, 1)],
     [("Baseline", 0, "MPRAGE"), ("Baseline", 0, "Axial FLAIR"), ("18 Month", 550, "MPRAGE"),
      ("54 Month", 1645, "MPRAGE")]),
    (4, 2, 1, 1949, date(2008, 6, 1),
     [("bl", 0, 2, 23, 0.5), ("m18", 540, 2, 23, 0.5), ("m36", 1100, 2, 22, 0.5),
      ("m72", 2190, 2, 21, 0.5)],
     [("Baseline", 2, "MPRAGE"), ("72 Month", 2195, "MPRAGE")]),
    (5, 1, 2, 1940, date(2008, 7, 15),
     [("bl", 0, 1, 30, 0), ("m18", 546, 1, -4, 0)],
     [("Baseline", 4, "MPRAGE"), ("18 Month", 550, "MPRAGE")]),
    (6, 2, 1, 1935, date(2009, 1, 20),
     [("bl", 0, -4, 26, 0.5), ("m18", 551, 2, 24, 0.5)],
     [("Baseline", 0, "MPRAGE"), ("18 Month", 555, "MPRAGE"), ("36 Month", 1100, "MPRAGE")]),
    (7, 1, 2, 1942, date(2009, 3, 3),
     [("bl", 0, 1, 28, 0)],
     [("Baseline", 1, "MPRAGE")]),
)
NOT_DOWNLOADED = {7}  # RIDs whose images the download lacks
GROUPS = {1: "CN", 2: "MCI", 3: "AD", -4: ""}
SEXES = {1: "M", 2: "F"}


def write_example(out_dir: Path) -> list[Path]:
    """Write the AIBL-shaped example under root/AIBL; return the files written."""
    rng = random.Random(f"{SEED}-AIBL")
    w = Writer(Path(out_dir))
    w.table("aibl_ptdemog.csv", ("RID", "SITEID", "VISCODE", "PTGENDER", "PTDOB"),
            [(rid, site, "bl", sex, f"/{born}") for rid, site, sex, born, *_ in AIBL_SUBJECTS])
    mmse, cdr, diagnoses = [], [], []
    for rid, site, _, _, baseline, visits, _ in AIBL_SUBJECTS:
        for code, day, dx, score, cdglobal in visits:
            examined = (baseline + timedelta(days=day)).strftime("%m/%d/%Y")
            mmse.append((rid, site, code, examined, score))
            cdr.append((rid, site, code, examined, cdglobal))
            diagnoses.append((rid, site, code, dx))
    w.table("aibl_mmse.csv", ("RID", "SITEID", "VISCODE", "EXAMDATE", "MMSCORE"), mmse)
    w.table("aibl_cdr.csv", ("RID", "SITEID", "VISCODE", "EXAMDATE", "CDGLOBAL"), cdr)
    w.table("aibl_pdxconv.csv", ("RID", "SITEID", "VISCODE", "DXCURREN"), diagnoses)
    collection, image_id = [], FIRST_IMAGE_ID
    for rid, _, sex, born, baseline, visits, images in AIBL_SUBJECTS:
        for visit, day, description in images:
            acquired, name = baseline + timedelta(days=day), f"I{image_id}"
            image_id += 1
            collection.append([name, rid, GROUPS[visits[0][2]], SEXES[sex],
                               baseline.year - born, visit, "MRI", description, "Original",
                               loni_date(acquired), "NiFTI"])
            if rid not in NOT_DOWNLOADED:
                w.bytes(image_path("AIBL", str(rid), description, acquired, name),
                        nifti_bytes(T1_SHAPE, 1.0, rng))
    w.table("image_collection.csv", COLLECTION_COLUMNS, collection)
    return w.written
