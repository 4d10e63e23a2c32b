"""The PREDICT-HD-shaped example data: a BIDS release with the study's CHDI codes."""
from __future__ import annotations

import random
from pathlib import Path

from load_db.examples import (
    DWI_SHAPE,
    SEED,
    T1_SHAPE,
    Writer,
    between,
    nifti_bytes,
    scanner_sidecar,
)

# PREDICT-HD scanned at many sites, on 1.5 T and 3 T scanners of three makers.
PHD_TRIO = scanner_sidecar("Siemens", "TrioTim", 3)
PHD_SIGNA = scanner_sidecar("GE", "SIGNA EXCITE", 1.5)
PHD_ACHIEVA = scanner_sidecar("Philips", "Achieva", 3)

# (participant, sex, age at baseline, hdcat, CAG, scanner,
#  visits [(session, visdy, scans)]): hdcat 2 pre-manifest, 3 early HD, 4-6 controls, 1 unknown.
# Scans: T1 always, "dwi", "T2w" (not a stored type: reported). Edge cases: PHD004's third
# visit and PHD007's only visit have no images; PHD008's genotype is unknown (hdcat 1: no
# condition, reported); controls have no motor score at some visits (blank).
PHD_SUBJECTS = (
    ("PHD001", "F", 38.2, "2", 42, PHD_TRIO,
     [("visit1", 0, ("T1", "dwi")), ("visit2", 371, ("T1",)), ("visit3", 729, ("T1", "T2w"))]),
    ("PHD002", "M", 45.9, "2", 40, PHD_TRIO, [("visit1", 0, ("T1",)), ("visit2", 358, ("T1",))]),
    ("PHD003", "F", 51.4, "3", 44, PHD_ACHIEVA, [("visit1", 0, ("T1", "dwi"))]),
    ("PHD004", "M", 36.0, "2", 46, PHD_SIGNA,
     [("visit1", 0, ("T1",)), ("visit2", 380, ("T1",)), ("visit3", 744, ())]),
    ("PHD005", "F", 42.7, "4", 19, PHD_TRIO, [("visit1", 0, ("T1",)), ("visit2", 366, ("T1",))]),
    ("PHD006", "M", 57.1, "5", 22, PHD_ACHIEVA, [("visit1", 0, ("T1",))]),
    ("PHD007", "F", 33.8, "6", 17, PHD_SIGNA, [("visit1", 0, ())]),
    ("PHD008", "M", 48.3, "1", None, PHD_TRIO, [("visit1", 0, ("T1",))]),
)
PHD_NO_MOTOR = {("PHD005", "visit2"), ("PHD007", "visit1")}
PHD_HDCAT = {"1": "genotype unknown", "2": "pre-manifest HD (CAG expanded, no motor diagnosis)",
             "3": "early HD (motor diagnosis)", "4": "genotype negative control",
             "5": "family control", "6": "community control"}
PHD_SCANS = {
    "T1": ("anat", "T1w", T1_SHAPE, {"RepetitionTime": 2.3}),
    "dwi": ("dwi", "dwi", DWI_SHAPE, {"RepetitionTime": 9.0}),
    "T2w": ("anat", "T2w", T1_SHAPE, {"RepetitionTime": 3.2}),
}


def write_example(out_dir: Path) -> list[Path]:
    """Write the PREDICT-HD-shaped BIDS example under root/PREDICT-HD; return the files
    written."""
    rng = random.Random(f"{SEED}-PREDICT-HD")
    w = Writer(Path(out_dir))
    w.json("dataset_description.json",
           {"Name": "PREDICT-HD (MBID-db example)", "BIDSVersion": "1.8.0"})
    w.table("participants.tsv", ("participant_id", "sex", "age", "hdcat", "cag"),
            [(f"sub-{p}", sex, age, hdcat, "n/a" if cag is None else cag)
             for p, sex, age, hdcat, cag, *_ in PHD_SUBJECTS], delimiter="\t")
    w.json("participants.json", {
        "age": {"Description": "age at the baseline visit", "Units": "year"},
        "hdcat": {"Description": "CHDI participant category", "Levels": PHD_HDCAT},
        "cag": {"Description": "CAG repeat length of the longer HTT allele"}})
    for p, _, _, hdcat, _, scanner, visits in PHD_SUBJECTS:
        carrier = hdcat in ("2", "3")
        rows = []
        for session, visdy, scans in visits:
            motor = None if (p, session) in PHD_NO_MOTOR else int(
                between(rng, 5, 40, 0) if hdcat == "3" else between(rng, 0, 12, 0))
            rows.append((f"ses-{session}", visdy, "n/a" if motor is None else motor,
                         int(between(rng, 9, 13, 0) if not carrier else between(rng, 7, 13, 0)),
                         int(between(rng, 35, 65, 0))))
            for scan in scans:
                datatype, suffix, shape, fields = PHD_SCANS[scan]
                name = f"sub-{p}/ses-{session}/{datatype}/sub-{p}_ses-{session}_{suffix}"
                voxel = 1.0 if scanner["MagneticFieldStrength"] == 3 else 1.2
                w.bytes(f"{name}.nii.gz", nifti_bytes(shape, voxel, rng))
                w.json(f"{name}.json", {**scanner, **fields})
        w.table(f"sub-{p}/sub-{p}_sessions.tsv",
                ("session_id", "visdy", "motscore", "tfcscore", "sdmt1"), rows, delimiter="\t")
    return w.written
