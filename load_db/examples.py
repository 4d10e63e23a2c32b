"""Write the bundled example data: small OASIS-3-, OpenPain- and HCP-shaped trees, byte for byte.

`python -m load_db.examples [--out DIR]` (default: globals.DATA_DIR) writes

- ``OASIS/``: the OASIS-3 subjects CSV (Subject, M/F, Hand, Education), the ADRC clinical-data
  CSV (one row per clinical visit, ID ``OAS30001_ClinicalData_d0000``), and the MR sessions as
  BIDS under ``OASIS/bids/`` (``sub-OAS30001/ses-d0129/anat/...``);
- ``openpain/``: a BIDS dataset with participants.tsv (group healthy/subacute/chronic) and one
  sessions.tsv per subject (days_since_interview, mpq_vas, bdi_total);
- ``HCP/``: the HCP Young Adult unrestricted behavioural CSV and one T1 per scanned subject in
  the release layout ``<Subject>/unprocessed/3T/T1w_MPR1/<Subject>_3T_T1w_MPR1.nii.gz``.

The schedules below are written out by hand because the tests check the loaded result against
them (counts, image-to-visit links); only measurements (MMSE, height, weight, scores, voxels)
come from a seeded RNG. Everything is deterministic: a random.Random per dataset seeded with a
string, NIfTI headers packed with struct, gzip with mtime 0, fixed line endings and key order.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import logging
import random
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from globals import DATA_DIR

log = logging.getLogger(__name__)

SEED = "mbid-examples-1"

# --- tiny NIfTI-1 ------------------------------------------------------------------------------

NIFTI_HEADER = struct.Struct(
    "<i10s18sihsB"  # sizeof_hdr, data_type, db_name, extents, session_error, regular, dim_info
    "8h"            # dim
    "3f"            # intent_p1..p3
    "4h"            # intent_code, datatype, bitpix, slice_start
    "8f"            # pixdim
    "3f"            # vox_offset, scl_slope, scl_inter
    "hbb"           # slice_end, slice_code, xyzt_units
    "4f"            # cal_max, cal_min, slice_duration, toffset
    "2i"            # glmax, glmin
    "80s24s"        # descrip, aux_file
    "2h"            # qform_code, sform_code
    "6f"            # quatern_b, c, d, qoffset_x, y, z
    "12f"           # srow_x, srow_y, srow_z
    "16s4s"         # intent_name, magic
)
NIFTI_UINT8, NIFTI_UNITS_MM_SEC = 2, 2 | 8
VOX_OFFSET = 352  # header (348) + the 4-byte extension flag, as NIfTI-1 single files require


def nifti_bytes(shape: Sequence[int], voxel_mm: float, rng: random.Random,
                description: str = "MBID-db example") -> bytes:
    """Return a gzipped single-file NIfTI-1 image of `shape` uint8 voxels (reproducible bytes)."""
    dim = [len(shape), *shape] + [1] * (7 - len(shape))
    pixdim = [1.0] + [voxel_mm] * 3 + [2.0] * (len(shape) - 3) + [1.0] * (7 - max(len(shape), 3))
    offset = [-(size - 1) * voxel_mm / 2 for size in shape[:3]]
    srow = [voxel_mm, 0.0, 0.0, offset[0], 0.0, voxel_mm, 0.0, offset[1],
            0.0, 0.0, voxel_mm, offset[2]]
    header = NIFTI_HEADER.pack(
        348, b"", b"", 0, 0, b"r", 0,
        *dim,
        0.0, 0.0, 0.0,
        0, NIFTI_UINT8, 8, 0,
        *pixdim,
        float(VOX_OFFSET), 1.0, 0.0,
        0, 0, NIFTI_UNITS_MM_SEC,
        0.0, 0.0, 0.0, 0.0,
        255, 0,
        description.encode(), b"",
        1, 1,
        0.0, 0.0, 0.0, *offset,
        *srow,
        b"", b"n+1\0",
    )
    voxels = 1
    for size in shape:
        voxels *= size
    data = bytes(rng.randrange(256) for _ in range(voxels))
    # mtime=0 and no file name in the gzip header: the same input always gives the same bytes.
    return gzip.compress(header + b"\0\0\0\0" + data, compresslevel=9, mtime=0)


T1_SHAPE, DWI_SHAPE, BOLD_SHAPE = (4, 4, 4), (4, 4, 3, 3), (4, 4, 3, 5)

# --- writing helpers ---------------------------------------------------------------------------


class Writer:
    """Writes files under one root, remembering every path written (for the report and tests)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[Path] = []

    def bytes(self, relative: str, content: bytes) -> None:
        """Write `content` to root/relative, creating folders."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.written.append(path)

    def table(self, relative: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
              delimiter: str = ",") -> None:
        """Write a CSV (or TSV with delimiter '\\t') with '\\n' line endings."""
        buffer = io.StringIO()
        out = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        out.writerow(header)
        out.writerows([["" if cell is None else cell for cell in row] for row in rows])
        self.bytes(relative, buffer.getvalue().encode())

    def json(self, relative: str, content: dict[str, Any]) -> None:
        """Write pretty JSON with a final newline."""
        self.bytes(relative, (json.dumps(content, indent=2) + "\n").encode())


def between(rng: random.Random, low: float, high: float, digits: int = 1) -> float:
    """A uniform draw in [low, high], rounded (random() is stable across Python versions)."""
    return round(low + (high - low) * rng.random(), digits)


def scanner_sidecar(manufacturer: str, model: str, tesla: float, **extra: Any) -> dict[str, Any]:
    """The scanner fields of a BIDS sidecar, plus any acquisition fields."""
    return {"Manufacturer": manufacturer, "ManufacturersModelName": model,
            "MagneticFieldStrength": tesla, **extra}


# --- OASIS-3 -----------------------------------------------------------------------------------

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


def write_oasis(root: Path) -> list[Path]:
    """Write the OASIS-3-shaped example under root/OASIS; return the files written."""
    rng = random.Random(f"{SEED}-OASIS")
    w = Writer(root / "OASIS")
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


# --- OpenPain ----------------------------------------------------------------------------------

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


def write_openpain(root: Path) -> list[Path]:
    """Write the OpenPain-shaped BIDS example under root/openpain; return the files written."""
    rng = random.Random(f"{SEED}-openpain")
    w = Writer(root / "openpain")
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


# --- HCP Young Adult ---------------------------------------------------------------------------

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


def write_hcp(root: Path) -> list[Path]:
    """Write the HCP-Young-Adult-shaped example under root/HCP; return the files written."""
    rng = random.Random(f"{SEED}-HCP")
    w = Writer(root / "HCP")
    rows = [(subject, "S1200", f"Q{index % 13 + 1:02d}", gender, age,
             "TRUE" if scanned else "FALSE", int(scanned),
             int(between(rng, 27, 30, 0)), int(between(rng, 1, 9, 0)))
            for index, (subject, gender, age, scanned) in enumerate(HCP_SUBJECTS)]
    w.table(HCP_BEHAVIOURAL, HCP_HEADER, rows)
    for subject, _, _, scanned in HCP_SUBJECTS:
        if scanned:
            w.bytes(hcp_t1_path(subject), nifti_bytes(T1_SHAPE, 0.7, rng))
    return w.written


WRITERS = {"OASIS": write_oasis, "openpain": write_openpain, "HCP": write_hcp}


def write_examples(out: Path = DATA_DIR) -> list[Path]:
    """Write every example dataset under `out` (data/ by default); return the files written."""
    written = []
    for folder, write in WRITERS.items():
        files = write(Path(out))
        log.info("%s: %d files written under %s", folder, len(files), Path(out) / folder)
        written += files
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: `python -m load_db.examples [--out DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m load_db.examples", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help=f"folder to write OASIS/, openpain/ and HCP/ into "
                             f"(default: {DATA_DIR})")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    write_examples(options.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
