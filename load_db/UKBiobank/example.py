"""The UK-Biobank-shaped example data: the main dataset's CSV and the bulk imaging files."""
from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

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

SKYRA = scanner_sidecar("Siemens", "Skyra", 3)
# (eid, sex, year of birth, {instance: (date attended, age then)}, handedness, age completed
# education, ICD-10 codes, bulk files [(field, instance)]).
# 1000034 has no hospital diagnosis and 1000046 none the mapping maps (unknown conditions);
# 1000052's codes map to two conditions (unknown) and it never came to an imaging visit;
# 1000027 attended the repeat assessment (instance 1) without imaging; 20253 is a T2 FLAIR.
# Bulk zips are stored unpacked, each into the folder of its name; 1000034's resting-state zip
# was left packed (reported, not loaded).
UKB_PARTICIPANTS = (
    ("1000015", 0, 1950, {0: ("2008-05-12", 58), 2: ("2015-06-20", 65), 3: ("2019-09-03", 69)},
     1, 16, ("I10", "G309"),
     ((20252, 2), (20250, 2), (20227, 2), (20253, 2), (20252, 3))),
    ("1000027", 1, 1945, {0: ("2007-11-02", 62), 1: ("2012-10-15", 67), 2: ("2016-02-11", 70)},
     2, 15, ("G20",), ((20252, 2), (20227, 2))),
    ("1000034", 0, 1960, {0: ("2009-03-30", 49), 2: ("2017-07-07", 57)},
     1, -3, (), ((20252, 2), (20250, 2))),  # and the packed UKB_PACKED
    ("1000046", 1, 1952, {0: ("2008-01-21", 55), 2: ("2018-04-04", 66)},
     3, None, ("E119", "K21"), ((20252, 2),)),
    ("1000052", 0, 1948, {0: ("2006-08-14", 58)},
     -3, 17, ("G20", "G309"), ()),
    ("1000063", 1, 1955, {0: ("2010-02-02", 54), 2: ("2019-11-25", 64)},
     1, -2, ("F03",), ((20252, 2),)),
)
# Body measurements not taken: (eid, instance, field).
UKB_MISSING = {("1000015", 3, 21002), ("1000027", 1, 50), ("1000063", 2, 21001)}
UKB_MAIN = "ukb_main.csv"
INSTANCES = (0, 1, 2, 3)
ICD10_ARRAY = 3  # columns 41270-0.0 to 41270-0.2
# What each bulk field's zip holds: (NIfTI, its JSON sidecar, shape, sidecar fields).
UKB_BULK = {
    20252: ("T1/T1_orig_defaced.nii.gz", "T1/T1.json", T1_SHAPE, {"RepetitionTime": 2.0}),
    20253: ("T2_FLAIR/T2_FLAIR_orig_defaced.nii.gz", "T2_FLAIR/T2_FLAIR.json", T1_SHAPE,
            {"RepetitionTime": 5.0}),
    20250: ("dMRI/raw/AP.nii.gz", "dMRI/raw/AP.json", DWI_SHAPE, {"RepetitionTime": 3.6}),
    20227: ("fMRI/rfMRI.nii.gz", "fMRI/rfMRI.json", BOLD_SHAPE, {"RepetitionTime": 0.735}),
}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip stores: no clock in the bytes
UKB_PACKED = ("1000034", 20227, 2)


def ukb_header() -> list[str]:
    """The main dataset's columns, ``<field>-<instance>.<array>``, as ukbconv writes them."""
    header = ["eid", "31-0.0", "34-0.0"]
    for instance in INSTANCES:
        header += [f"{field}-{instance}.0" for field in (53, 21003, 50, 21002, 21001)]
    header += ["1707-0.0", "845-0.0"] + [f"41270-0.{array}" for array in range(ICD10_ARRAY)]
    return header


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip of `members` (stored, fixed times): the same members give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def write_example(out_dir: Path) -> list[Path]:
    """Write the UK-Biobank-shaped example under root/UKBiobank; return the files written."""
    rng = random.Random(f"{SEED}-UKBiobank")
    w = Writer(Path(out_dir))
    rows = []
    for eid, sex, born, visits, hand, education, codes, _ in UKB_PARTICIPANTS:
        row = {"eid": eid, "31-0.0": sex, "34-0.0": born, "1707-0.0": hand,
               "845-0.0": education}
        for instance, (attended, age) in visits.items():
            height = between(rng, 150, 190)
            weight = between(rng, 50, 100)
            values = {53: attended, 21003: age, 50: height, 21002: weight,
                      21001: round(weight / (height / 100) ** 2, 4)}
            for field, value in values.items():
                if (eid, instance, field) not in UKB_MISSING:
                    row[f"{field}-{instance}.0"] = value
        for array, code in enumerate(codes):
            row[f"41270-0.{array}"] = code
        rows.append([row.get(name) for name in ukb_header()])
    w.table(UKB_MAIN, ukb_header(), rows)
    for eid, *_, bulk in UKB_PARTICIPANTS:
        for field, instance in bulk:
            for name, content in bulk_members(rng, field).items():
                w.bytes(f"bulk/{eid}_{field}_{instance}_0/{name}", content)
    eid, field, instance = UKB_PACKED
    w.bytes(f"bulk/{eid}_{field}_{instance}_0.zip", zip_bytes(bulk_members(rng, field)))
    return w.written


def bulk_members(rng: random.Random, field: int) -> dict[str, bytes]:
    """The files a bulk field's zip holds: its NIfTI and the NIfTI's JSON sidecar."""
    member, sidecar, shape, fields = UKB_BULK[field]
    return {member: nifti_bytes(shape, 1.0, rng),
            sidecar: (json.dumps({**SKYRA, **fields}, indent=2) + "\n").encode()}
