"""A deterministic synthetic BIDS tree for the benchmarks (seeded, no network, tiny files).

Shaped like a two-session MRI study converted by dcm2niix: per subject-session an anat T1w,
a dwi, a resting-state and a task bold, a phase-difference field map with its two magnitude
images, and a T2w; per subject a sessions.tsv; at the top participants.tsv/.json and sidecars
that every session inherits. NIfTI files are empty (the adapter never opens them); sidecars
are dcm2niix-like JSON of about 1 kB.

Each subject-session has 12 files and each subject 25, so 2,000 subjects make 50,009 files,
the size of the tree issue 6 measured the other tools on (50,006 files).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SESSIONS = ("01", "02")
# (manufacturer, model, serial prefix, software): one site per subject, drawn from the seed.
SITES = (("Siemens", "Prisma_fit", "SIE", "syngo MR XA30"),
         ("GE", "DISCOVERY MR750", "GEM", "DV26.0_R03"),
         ("Philips", "Achieva dStream", "PHI", "5.6.1"))
# (datatype, file name suffix after the session entity, stored by MBID-db, has its own sidecar)
# Sidecars not written per file are inherited from the top-level ones in TOP_SIDECARS.
NIFTIS = (("anat", "T1w", True, True),
          ("anat", "T2w", False, False),
          ("dwi", "dwi", True, True),
          ("func", "task-rest_bold", True, True),
          ("func", "task-nback_bold", False, False),
          ("fmap", "phasediff", True, True),
          ("fmap", "magnitude1", True, False),
          ("fmap", "magnitude2", True, False))
TOP_SIDECARS = {
    "task-rest_bold.json": {"TaskName": "rest", "RepetitionTime": 2.0,
                            "Instructions": "Keep your eyes open and think of nothing."},
    "task-nback_bold.json": {"TaskName": "nback", "RepetitionTime": 2.0},
    "T2w.json": {"MRAcquisitionType": "3D", "ScanningSequence": "SE"},
    "magnitude1.json": {"EchoTime": 0.00492},
    "magnitude2.json": {"EchoTime": 0.00738},
}
DESCRIPTION = {"Name": "MBID-db synthetic benchmark", "BIDSVersion": "1.9.0",
               "DatasetType": "raw", "License": "CC0"}
PARTICIPANTS_JSON = {"sex": {"Description": "sex at birth", "Levels": {"M": "male",
                                                                       "F": "female"}},
                     "age": {"Description": "age at the first session", "Units": "years"},
                     "handedness": {"Levels": {"R": "right", "L": "left"}},
                     "group": {"Levels": {"control": "healthy control", "patient": "patient"}}}
README = "Synthetic BIDS tree written by bench.bids_tree for `make bench`; not real data.\n"


@dataclass(frozen=True)
class TreeCounts:
    """What `write_bids_tree` wrote: what a correct reader must find."""

    subjects: int
    sessions: int
    files: int        # every file, sidecars and tables included
    sidecars: int     # every .json (dataset_description and participants.json too)
    niftis: int
    images: int       # NIfTI files MBID-db stores (T1, DWI, rest bold, field maps)
    ignored: int      # NIfTI files it ignores (T2w, task bold)

    @property
    def rows(self) -> int:
        """Database rows a first load writes: subjects, visits, images and scanners."""
        return self.subjects + self.sessions + self.images + self.scanners

    @property
    def scanners(self) -> int:
        """One scanner per site: every site is used once there are a few subjects."""
        return len({_site_of(index) for index in range(1, self.subjects + 1)})


def subject_label(index: int) -> str:
    """The label (without ``sub-``) of the subject numbered `index` (from 1)."""
    return f"{index:05d}"


def _site_of(index: int) -> int:
    return random.Random(f"site-{index}").randrange(len(SITES))


def write_bids_tree(root: str | Path, subjects: int, *, seed: int = 7,
                    grow: bool = False) -> TreeCounts:
    """Write a BIDS tree of `subjects` subjects x 2 sessions under `root` (created if needed).

    Deterministic: the same arguments write the same bytes. Subject `i` is the same in every
    tree written with the same seed, so a tree of N + 50 subjects is a tree of N subjects with
    50 added (participants.tsv gains their rows). With `grow`, a file already holding its
    bytes is left alone (its modification time too): a tree of N subjects grows in place into
    one of N + 50, as a dataset does when subjects are added.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    files = sidecars = 0

    def write(relative: str, text: str = "") -> None:
        nonlocal files, sidecars
        path = root / relative
        if not (grow and path.is_file() and path.read_text(encoding="utf-8") == text):
            path.write_text(text, encoding="utf-8")
        files += 1
        sidecars += relative.endswith(".json")

    write("dataset_description.json", _json(DESCRIPTION))
    write("README", README)
    write("participants.json", _json(PARTICIPANTS_JSON))
    for name, sidecar in TOP_SIDECARS.items():
        write(name, _json(sidecar))
    participants = ["participant_id\tage\tsex\thandedness\tgroup"]
    for index in range(1, subjects + 1):
        rng = random.Random(f"{seed}-{index}")
        label = subject_label(index)
        participants.append(f"sub-{label}\t{rng.uniform(45, 85):.1f}\t{rng.choice('MF')}\t"
                            f"{rng.choice('RRRRL')}\t{rng.choice(('control', 'patient'))}")
        site = SITES[_site_of(index)]
        serial = f"{site[2]}-0001"  # one scanner per site
        first_day = date(2015, 1, 1) + timedelta(days=rng.randrange(1500))
        session_rows = ["session_id\tacq_time\tmoca"]
        for number, session in enumerate(SESSIONS):
            day = first_day + timedelta(days=number * rng.randrange(300, 900))
            session_rows.append(f"ses-{session}\t{day.isoformat()}T{rng.randrange(8, 18):02d}:"
                                f"{rng.randrange(60):02d}:00\t{rng.randrange(18, 31)}")
            folder = f"sub-{label}/ses-{session}"
            for datatype in {datatype for datatype, *_ in NIFTIS}:
                (root / folder / datatype).mkdir(parents=True, exist_ok=True)
            for datatype, suffix, _, own_sidecar in NIFTIS:
                stem = f"{folder}/{datatype}/sub-{label}_ses-{session}_{suffix}"
                write(f"{stem}.nii.gz")
                if own_sidecar:
                    write(f"{stem}.json", _json(_sidecar(rng, site, serial, suffix)))
        write(f"sub-{label}/sub-{label}_sessions.tsv", "\n".join(session_rows) + "\n")
    write("participants.tsv", "\n".join(participants) + "\n")
    per_session = len(NIFTIS)
    stored = sum(1 for _, _, kept, _ in NIFTIS if kept)
    return TreeCounts(subjects=subjects, sessions=subjects * len(SESSIONS), files=files,
                      sidecars=sidecars, niftis=subjects * len(SESSIONS) * per_session,
                      images=subjects * len(SESSIONS) * stored,
                      ignored=subjects * len(SESSIONS) * (per_session - stored))


def _json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


def _sidecar(rng: random.Random, site: tuple[str, str, str, str], serial: str,
             suffix: str) -> dict:
    """A dcm2niix-like sidecar: scanner, sequence and timing fields, per image kind."""
    manufacturer, model, _, software = site
    kind = suffix.rpartition("_")[2]
    sidecar = {
        "Modality": "MR", "MagneticFieldStrength": 3, "ImagingFrequency": 123.2,
        "Manufacturer": manufacturer, "ManufacturersModelName": model,
        "InstitutionName": "Synthetic Imaging Centre", "DeviceSerialNumber": serial,
        "StationName": f"{manufacturer.upper()}-MR1", "SoftwareVersions": software,
        "MRAcquisitionType": "2D" if kind in ("bold", "dwi", "phasediff") else "3D",
        "SeriesDescription": suffix, "ProtocolName": suffix,
        "SeriesNumber": rng.randrange(1, 30), "AcquisitionTime": f"{rng.randrange(8, 18):02d}:"
                                                                  f"{rng.randrange(60):02d}:00",
        "SliceThickness": round(rng.uniform(0.8, 3.0), 2),
        "EchoTime": round(rng.uniform(0.002, 0.1), 5),
        "RepetitionTime": round(rng.uniform(0.7, 3.0), 3),
        "FlipAngle": rng.randrange(8, 90), "PhaseEncodingDirection": "j-",
        "ConversionSoftware": "dcm2niix", "ConversionSoftwareVersion": "v1.0.20220720",
    }
    if kind == "bold":
        sidecar["SliceTiming"] = [round(slice_ * 0.0625, 4) for slice_ in range(32)]
    elif kind == "dwi":
        sidecar["TotalReadoutTime"] = round(rng.uniform(0.03, 0.06), 5)
    elif kind == "phasediff":
        sidecar["EchoTime1"], sidecar["EchoTime2"] = 0.00492, 0.00738
    return sidecar
