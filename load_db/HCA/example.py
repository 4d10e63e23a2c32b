"""The HCP-Aging-shaped example data: NIH data archive structures and the imaging collection."""
from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
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

# Every HCP-Aging site scans on the same model of Siemens Prisma at 3 T.
HCA_PRISMA = scanner_sidecar("Siemens", "Prisma", 3)
IMAGING = "imagingcollection01"

# (src_subject_id, sex, age in months at V1, race, ethnic_group, site, V1 date,
#  Edinburgh score, visits [(visit, day, scans)]).
# Scans: T1 (always with images), "dwi", "rest", and "other" (a T2w and a task fMRI run: not
# stored types, reported). Edge cases: HCA6018857's V2 and HCA6030645's V1 have no images;
# HCA6047359's vitals were taken the day after its MoCA (the visit keeps the earlier day);
# HCA6072156 gave no handedness score; HCA7000001 has images but no phenotype (reported).
HCA_SUBJECTS = (
    ("HCA6002236", "F", 720, "White", "Not Hispanic or Latino", "WashU", date(2017, 3, 14), 80,
     [("V1", 0, ("T1", "dwi", "rest", "other")), ("V2", 732, ("T1",))]),
    ("HCA6010538", "M", 484, "Black or African American", "Not Hispanic or Latino", "UMinn",
     date(2017, 5, 2), 100, [("V1", 0, ("T1", "rest"))]),
    ("HCA6018857", "F", 913, "White", "Hispanic or Latino", "MGH", date(2017, 9, 21), -75,
     [("V1", 0, ("T1", "dwi")), ("V2", 701, ())]),
    ("HCA6030645", "M", 1105, "Asian", "Not Hispanic or Latino", "UCLA", date(2018, 1, 8), 20,
     [("V1", 0, ())]),
    ("HCA6047359", "F", 541, "More than one race", "Not Hispanic or Latino", "WashU",
     date(2018, 4, 30), 65, [("V1", 0, ("T1", "rest"))]),
    ("HCA6051047", "M", 1214, "White", "Not Hispanic or Latino", "UMinn", date(2018, 6, 11), 90,
     [("V1", 0, ("T1",))]),
    ("HCA6072156", "F", 602, "White", "unknown or not reported", "MGH", date(2018, 10, 3), None,
     [("V1", 0, ("T1", "dwi")), ("V2", 745, ("T1", "dwi"))]),
)
HCA_IMAGING_ONLY = "HCA7000001"
HCA_VITALS_DELAY = {"HCA6047359": 1}  # days between the MoCA and the vitals of V1
# Visit rows with measurements not taken: (subject, visit) -> the blank columns.
HCA_MISSING = {
    ("HCA6010538", "V1"): ("vtl007",),
    ("HCA6018857", "V2"): ("moca_total",),
    ("HCA6072156", "V2"): ("weight_std",),
}

# The columns every distributed structure starts with, and their descriptions (row 2).
NDA_COMMON = {
    "subjectkey": "The NDAR Global Unique Identifier (GUID) for research subject",
    "src_subject_id": "Subject ID how it's defined in lab/project",
    "interview_date": "Date on which the interview/genetic test/sampling/imaging/biospecimen "
                      "was completed. MM/DD/YYYY",
    "interview_age": "Age in months at the time of the interview/test/sampling/imaging.",
    "sex": "Sex of subject at birth",
}
NDAR_SUBJECT = {**NDA_COMMON, "race": "Race of study subject",
                "ethnic_group": "Ethnic group of study subject", "site": "Site"}
VISIT = {"visit": "Visit name"}
EDINBURGH = {**NDA_COMMON, **VISIT,
             "hcp_handedness_score": "Edinburgh handedness score (-100 left to 100 right)"}
VITALS = {**NDA_COMMON, **VISIT, "weight_std": "Weight - Standard Unit",
          "vtl007": "Height in inches"}
MOCA = {**NDA_COMMON, **VISIT, "moca_total": "MoCA total score",
        "moca_edu": "Education point: 1 when 12 years of education or fewer"}


def nda_structure(w: Writer, name: str, columns: dict[str, str],
                  rows: Sequence[dict[str, Any]]) -> None:
    """Write one NDA structure as distributed: tab-separated, column names on row 1, their
    descriptions on row 2, then one row per record."""
    names = ["collection_id", f"{name}_id", "dataset_id", *columns]
    descriptions = ["collection_id", f"{name}_id", "dataset_id", *columns.values()]
    body = [descriptions] + [
        ["2847", str(1000 + index), "40071", *(row.get(column) for column in columns)]
        for index, row in enumerate(rows)]
    w.table(f"{name}.txt", names, body, delimiter="\t")


def hca_scan(w: Writer, rng: random.Random, subject: str, visit: str, folder: str, stem: str,
             shape: Sequence[int], voxel: float, fields: dict[str, Any]) -> None:
    """Write one scan of an HCP-Aging MR session with its sidecar, in the release layout."""
    session = f"{subject}_{visit}_MR"
    name = f"{IMAGING}/{session}/unprocessed/{folder}/{session}_{stem}"
    w.bytes(f"{name}.nii.gz", nifti_bytes(shape, voxel, rng))
    w.json(f"{name}.json", {**HCA_PRISMA, **fields})


# scan -> [(folder, file stem, shape, voxel mm, sidecar fields)]
HCA_SCANS = {
    "T1": [("T1w_MPR_vNav_4e_e1e2_mean", "T1w_MPR_vNav_4e_e1e2_mean", T1_SHAPE, 0.8,
            {"RepetitionTime": 2.5})],
    "dwi": [("Diffusion", f"dMRI_{run}", DWI_SHAPE, 1.5, {"RepetitionTime": 3.23})
            for run in ("dir98_AP", "dir99_PA")],
    "rest": [(f"rfMRI_REST1_{pe}", f"rfMRI_REST1_{pe}", BOLD_SHAPE, 2.0,
              {"RepetitionTime": 0.8, "TaskName": "rest"}) for pe in ("AP", "PA")],
    "other": [("T2w_SPC_vNav", "T2w_SPC_vNav", T1_SHAPE, 0.8, {"RepetitionTime": 3.2}),
              ("tfMRI_CARIT_PA", "tfMRI_CARIT_PA", BOLD_SHAPE, 2.0,
               {"RepetitionTime": 0.8, "TaskName": "carit"})],
}


def write_example(out_dir: Path) -> list[Path]:
    """Write the HCP-Aging-shaped example under root/HCA; return the files written."""
    rng = random.Random(f"{SEED}-HCA")
    w = Writer(Path(out_dir))
    subjects, hands, vitals, moca = [], [], [], []
    for index, (subject, sex, months, race, ethnic, site, first, score, visits) \
            in enumerate(HCA_SUBJECTS):
        common = {"subjectkey": f"NDAR_INV{index + 1:03d}HCA{subject[-4:]}",
                  "src_subject_id": subject, "sex": sex}

        def at(day: int, common=common, first=first, months=months) -> dict[str, Any]:
            return {**common, "interview_date": (first + timedelta(days=day)).strftime("%m/%d/%Y"),
                    "interview_age": months + round(day / 30.4375)}

        subjects.append({**at(0), "race": race, "ethnic_group": ethnic, "site": site})
        hands.append({**at(0), "visit": "V1", "hcp_handedness_score": score})
        for visit, day, _ in visits:
            blank = HCA_MISSING.get((subject, visit), ())
            test = {**at(day), "visit": visit, "moca_total": int(between(rng, 22, 30, 0)),
                    "moca_edu": int(rng.random() < 0.3)}
            vital = {**at(day + HCA_VITALS_DELAY.get(subject, 0)), "visit": visit,
                     "weight_std": between(rng, 110, 230, 1), "vtl007": between(rng, 60, 75, 1)}
            moca.append({key: None if key in blank else value for key, value in test.items()})
            vitals.append({key: None if key in blank else value for key, value in vital.items()})
    nda_structure(w, "ndar_subject01", NDAR_SUBJECT, subjects)
    nda_structure(w, "edinburgh_hand01", EDINBURGH, hands)
    nda_structure(w, "vitals01", VITALS, vitals)
    nda_structure(w, "moca01", MOCA, moca)
    sessions = [(subject, visit, scans) for subject, *_, visits in HCA_SUBJECTS
                for visit, _, scans in visits]
    sessions.append((HCA_IMAGING_ONLY, "V1", ("T1",)))
    for subject, visit, scans in sessions:
        for scan in scans:
            for folder, stem, shape, voxel, fields in HCA_SCANS[scan]:
                hca_scan(w, rng, subject, visit, folder, stem, shape, voxel, fields)
    return w.written
