"""Deterministic synthetic inputs for the benchmarks (no network, seeded random numbers)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

TYPES = np.array(["T1", "DWI", "rsfMRI", "FieldMap"])
SEXES = np.array(["female", "male"])
SCANNERS = [("Siemens", "Skyra", "UKB-CHEADLE", 3.0), ("Siemens", "Skyra", "UKB-NEWCASTLE", 3.0),
            ("Siemens", "Skyra", "UKB-READING", 3.0), ("Siemens", "Skyra", "UKB-BRISTOL", 3.0)]
CONDITION_LABELS = np.array(["healthy", "healthy", "healthy", "MCI", "AD"])


# Subjects per chunk of `ukbiobank_chunks`: 5,000 subjects are 65,000 rows.
CHUNK_SUBJECTS = 5_000


def ukbiobank_frames(subjects: int, visits_per_subject: int = 2, images_per_visit: int = 5,
                     seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """UK-Biobank-shaped subjects, visits (instances 2 and 3) and images, as canonical frames:
    the chunks of `ukbiobank_chunks`, concatenated.

    With the defaults, N subjects give 2N visits and 10N images: 100,000 subjects make the
    200,000 visits and 1,000,000 images of the full benchmark.
    """
    parts = list(ukbiobank_chunks(subjects, visits_per_subject, images_per_visit, seed))
    return tuple(pd.concat(frames, ignore_index=True)  # type: ignore[return-value]
                 for frames in zip(*parts, strict=True))


def ukbiobank_chunks(subjects: int, visits_per_subject: int = 2, images_per_visit: int = 5,
                     seed: int = 7, chunk_subjects: int = CHUNK_SUBJECTS
                     ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The same input as (subjects, visits, images) frames of `chunk_subjects` subjects at a
    time, generated lazily: a consumer holds one chunk, whatever `subjects` is. Chunk k is
    drawn from its own generator seeded (seed, k), so the input does not depend on what was
    consumed before."""
    for first in range(0, subjects, chunk_subjects):
        rng = np.random.default_rng((seed, first // chunk_subjects))
        yield _ukbiobank_chunk(rng, first, min(chunk_subjects, subjects - first),
                               visits_per_subject, images_per_visit)


def _ukbiobank_chunk(rng: np.random.Generator, first: int, subjects: int,
                     visits_per_subject: int, images_per_visit: int
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Subjects first .. first + subjects - 1 of the input (image numbers continue from theirs)."""
    ids = np.char.add("UKB", np.arange(1_000_000 + first, 1_000_000 + first + subjects)
                      .astype(str))
    subject_frame = pd.DataFrame({
        "external_id": ids,
        "sex": SEXES[rng.integers(0, 2, subjects)],
        "age_at_baseline": np.round(rng.uniform(45, 80, subjects), 1),
        "education_years": rng.integers(8, 22, subjects).astype(float),
    })
    visit_subject = np.repeat(ids, visits_per_subject)
    instance = np.tile(np.arange(2, 2 + visits_per_subject), subjects)
    follow_up = rng.integers(700, 2500, subjects * visits_per_subject)
    days = np.where(instance == 2, 0, follow_up * (instance - 2))
    visit_frame = pd.DataFrame({
        "subject": visit_subject,
        "external_id": np.char.add("instance-", instance.astype(str)),
        "days_since_baseline": days,
        "condition": CONDITION_LABELS[rng.integers(0, len(CONDITION_LABELS), len(visit_subject))],
        "bmi": np.round(rng.normal(27, 4, len(visit_subject)), 1),
    })
    count = len(visit_frame) * images_per_visit
    offset = first * visits_per_subject * images_per_visit
    image_subject = np.repeat(visit_subject, images_per_visit)
    image_visit = np.repeat(visit_frame["external_id"].to_numpy(), images_per_visit)
    image_days = np.repeat(days, images_per_visit)
    number = np.arange(offset, offset + count)
    kind = TYPES[number % len(TYPES)]
    serial = np.array([s[2] for s in SCANNERS])[rng.integers(0, len(SCANNERS), count)]
    paths = ("UKB/" + pd.Series(image_subject) + "/" + pd.Series(image_visit) + "/"
             + pd.Series(number.astype(str)) + "_" + pd.Series(kind) + ".nii.gz")
    echo = np.round(rng.uniform(0.002, 0.1, count), 4)
    image_frame = pd.DataFrame({
        "subject": image_subject,
        "path": paths.to_numpy(),
        "days_since_baseline": image_days + rng.integers(0, 3, count),
        "type": kind,
        "file_size": rng.integers(1_000_000, 60_000_000, count),
        "manufacturer": "Siemens", "model": "Skyra", "serial": serial, "field_strength": 3.0,
        "metadata": [{"EchoTime": float(e), "RepetitionTime": 2.0} for e in echo],
    })
    return subject_frame, visit_frame, image_frame


UKB_CONDITIONS = {"healthy": "Healthy Control", "MCI": "Mild Cognitive Impairment",
                  "AD": "Alzheimer's Disease"}


# The per-visit measures of the synthetic assessments (designations of the master list) and
# how their values are drawn: (kind, unit, minimum, maximum, mean, spread) of a normal draw
# clipped to the range, rounded to `decimals`.
VISIT_MEASURES = {
    "MMSE": ("ordinal", "points", 0, 30, 26.0, 4.0, 0),
    "MOCA": ("ordinal", "points", 0, 30, 24.0, 4.0, 0),
    "CDR_GLOBAL": ("ordinal", None, 0, 3, 0.3, 0.5, 1),
    "CDR_SB": ("ordinal", "points", 0, 18, 1.5, 2.0, 1),
    "FAQ": ("ordinal", "points", 0, 30, 3.0, 5.0, 0),
    "GDS": ("ordinal", "points", 0, 15, 2.0, 2.5, 0),
    "HEIGHT": ("number", "cm", 50, 250, 170.0, 9.0, 1),
    "WEIGHT": ("number", "kg", 20, 300, 78.0, 14.0, 1),
    "BMI": ("number", "kg/m2", 10, 80, 27.0, 4.0, 1),
    "PSQI": ("ordinal", "points", 0, 21, 5.0, 3.0, 0),
}


def assessment_frame(visit_frame: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """One value of every VISIT_MEASURES measure at every visit, on the visit's day.

    Columns: subject, visit (external ids), measure (designation), days_since_baseline,
    value_number. With 2 visits a subject, N subjects give 20N assessments: the full
    benchmark's 100,000 subjects make 2,000,000. About a fifth of the MMSE scores are
    below 24.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for designation, (_, _, low, high, mean, spread, decimals) in VISIT_MEASURES.items():
        values = np.clip(np.round(rng.normal(mean, spread, len(visit_frame)), decimals),
                         low, high)
        frames.append(pd.DataFrame({
            "subject": visit_frame["subject"].to_numpy(),
            "visit": visit_frame["external_id"].to_numpy(),
            "measure": designation,
            "days_since_baseline": visit_frame["days_since_baseline"].to_numpy(),
            "value_number": values}))
    return pd.concat(frames, ignore_index=True)
