"""The OpenPain-shaped example data: a BIDS dataset with participants and sessions tables."""
from __future__ import annotations

import random
from pathlib import Path

from load_db.examples import (
    BOLD_SHAPE,
    SEED,
    T1_SHAPE,
    Writer,
    between,
    nifti_bytes,
    scanner_sidecar,
)

# (participant, sex, age, group, sessions [visit number, ...], sessions listed without images)
OPENPAIN_SUBJECTS = (
    ("01", "F", 34, "healthy", [1], []),
    ("02", "M", 41, "healthy", [1, 2], []),
    ("03", "F", 29, "healthy", [1], []),
    ("04", "M", None, "healthy", [1], []),
    ("05", "F", 45, "subacute", [1, 2, 3, 4], []),
    ("06", "M", 38, "subacute", [1, 2, 3], [4]),
    ("07", "F", 52, "subacute", [1, 2, 3], []),
    ("08", "M", 47, "subacute", [1, 2], []),
    ("09", "F", 58, "chronic", [1, 2], []),
    ("10", "M", 61, "chronic", [1], []),
    ("11", "F", 49, "chronic", [1], []),
    ("12", "M", 55, "chronic", [1, 2], []),
)
# Nominal study days of visits 1-4 (the real schedule: entry, ~2 months, ~6 months, ~1 year).
OPENPAIN_VISIT_DAYS = {1: 0, 2: 56, 3: 182, 4: 365}
OPENPAIN_TRIO = scanner_sidecar("Siemens", "TrioTim", 3)
OPENPAIN_PRISMA = scanner_sidecar("Siemens", "Prisma_fit", 3)
# sub-12 was scanned on the upgraded scanner: its own sidecars override the top-level ones.
OPENPAIN_PRISMA_SUBJECTS = frozenset({"12"})


def write_example(out_dir: Path) -> list[Path]:
    """Write the OpenPain-shaped BIDS example under root/openpain; return the files written."""
    rng = random.Random(f"{SEED}-openpain")
    w = Writer(Path(out_dir))
    w.json("dataset_description.json",
           {"Name": "OpenPain subacute back pain (MBID-db example)", "BIDSVersion": "1.8.0"})
    w.table("participants.tsv", ("participant_id", "sex", "age", "group"),
            [(f"sub-{p}", sex, "n/a" if age is None else age, group)
             for p, sex, age, group, *_ in OPENPAIN_SUBJECTS], delimiter="\t")
    # No "Levels" for group: the BIDS adapter would store their descriptions instead of the codes.
    w.json("participants.json", {"group": {
        "Description": "study arm: healthy, subacute (back pain 6-12 weeks) or chronic (more "
                       "than 12 weeks)"}})
    # Top-level sidecars apply to every matching file below them (BIDS inheritance).
    w.json("T1w.json", {**OPENPAIN_TRIO, "RepetitionTime": 2.5})
    w.json("task-rest_bold.json", {**OPENPAIN_TRIO, "RepetitionTime": 2.5, "TaskName": "rest"})
    for p, _, _, group, scanned, unscanned in OPENPAIN_SUBJECTS:
        sessions = []
        for visit in sorted(scanned + unscanned):
            day = OPENPAIN_VISIT_DAYS[visit] + (int(between(rng, -6, 6, 0)) if visit > 1 else 0)
            pain = None if group == "healthy" else between(rng, 10, 90, 0)
            sessions.append((f"ses-visit{visit}", day, "n/a" if pain is None else int(pain),
                             int(between(rng, 0, 8 if group == "healthy" else 25, 0))))
        w.table(f"sub-{p}/sub-{p}_sessions.tsv",
                ("session_id", "days_since_interview", "mpq_vas", "bdi_total"), sessions,
                delimiter="\t")
        for visit in scanned:
            stem = f"sub-{p}/ses-visit{visit}"
            name = f"sub-{p}_ses-visit{visit}"
            w.bytes(f"{stem}/anat/{name}_T1w.nii.gz", nifti_bytes(T1_SHAPE, 1.0, rng))
            w.bytes(f"{stem}/func/{name}_task-rest_bold.nii.gz", nifti_bytes(BOLD_SHAPE, 3.0, rng))
            if p in OPENPAIN_PRISMA_SUBJECTS:
                w.json(f"{stem}/anat/{name}_T1w.json", OPENPAIN_PRISMA)
                w.json(f"{stem}/func/{name}_task-rest_bold.json", OPENPAIN_PRISMA)
        # Sub-05's first visit also has a pain-rating task run: not resting state, so ignored.
        if p == "05":
            w.bytes("sub-05/ses-visit1/func/sub-05_ses-visit1_task-painrating_bold.nii.gz",
                    nifti_bytes(BOLD_SHAPE, 3.0, rng))
    return w.written
