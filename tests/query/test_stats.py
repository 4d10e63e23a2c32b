"""The counts of /stats over a random world against pandas; small-count suppression of /stats
and the dashboard (pure functions)."""
from __future__ import annotations

import random
from datetime import datetime

import pandas as pd
import pytest

from app.models.enums import ImageType, Sex
from app.query.stats import stats_of, suppressed, suppressed_count
from tests.support.factories import (
    make_condition,
    make_dataset,
    make_image,
    make_subject,
    make_visit,
)


@pytest.mark.parametrize(("count", "threshold", "shown"), [
    (0, 5, 0), (1, 5, "<5"), (4, 5, "<5"), (5, 5, 5), (120, 5, 120), (1, 1, 1), (9, 10, "<10")])
def test_suppressed_count(count, threshold, shown):
    assert suppressed_count(count, threshold) == shown


def test_suppressed_leaves_the_non_count_fields_alone():
    stats = {"subjects": 3, "images": 7, "groups": [
        {"dataset": "A", "type": "T1", "condition": None, "subjects": 3, "images": 7}],
        "sex": [], "age": [{"age_min": 10, "age_max": 20, "subjects": 0, "images": 0}]}
    assert suppressed(stats, 5) == {"subjects": "<5", "images": 7, "groups": [
        {"dataset": "A", "type": "T1", "condition": None, "subjects": "<5", "images": 7}],
        "sex": [], "age": [{"age_min": 10, "age_max": 20, "subjects": 0, "images": 0}]}


def _random_images(session) -> pd.DataFrame:
    """Images of 60 subjects over 2 datasets, with visits whose diagnosis is known or not,
    unknown ages and days, a withdrawn subject and a deleted image; returns
    what each image should count as (pandas), from the values written."""
    rng = random.Random(27)
    datasets = [make_dataset(session) for _ in range(2)]
    conditions = [make_condition(session) for _ in range(3)]
    rows = []
    for n in range(60):
        subject_condition = rng.choice([None, *conditions])
        subject = make_subject(session, dataset=rng.choice(datasets),
                               sex=rng.choice(list(Sex)), condition=subject_condition,
                               age_at_baseline=rng.choice([None, rng.uniform(5, 105)]))
        withdrawn = n == 7
        if withdrawn:
            subject.deleted_at = datetime(2026, 1, 1)
        visits = [make_visit(session, subject=subject, days_since_baseline=day,
                             condition=rng.choice([None, *conditions]))
                  for day in (0, rng.randint(300, 3000))]
        for _ in range(rng.randint(1, 4)):
            visit = rng.choice(visits)
            day = rng.choice([None, visit.days_since_baseline + rng.randint(0, 5)])
            image = make_image(session, subject=subject, visit=visit, days_since_baseline=day,
                               type=rng.choice([ImageType.T1, ImageType.DWI, ImageType.RSFMRI]))
            rows.append((image, subject, visit, withdrawn))
    rows[5][0].deleted_at = datetime(2026, 1, 1)
    session.commit()
    frame = []
    for image, subject, visit, withdrawn in rows:
        condition = visit.condition or subject.condition
        day = image.days_since_baseline if image.days_since_baseline is not None \
            else visit.days_since_baseline
        age = None if subject.age_at_baseline is None else subject.age_at_baseline + day / 365.25
        frame.append({"shown": not withdrawn and image.deleted_at is None,
                      "subject": subject.id, "dataset": subject.dataset.designation,
                      "type": str(image.type), "sex": str(subject.sex), "age": age,
                      "condition": condition.designation if condition else None})
    frame = pd.DataFrame(frame)
    frame["age_min"] = [None if pd.isna(age) else min(int(age // 10) * 10, 100)
                        for age in frame["age"]]
    return frame[frame["shown"]]


def _expected_stats(images: pd.DataFrame) -> dict:
    def counted(keys):
        groups = images.groupby(keys, dropna=False)
        return [{**dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
                 "subjects": int(group["subject"].nunique()), "images": len(group)}
                for key, group in groups]

    def clean(rows):
        return [{key: (None if isinstance(value, float) and pd.isna(value) else value)
                 for key, value in row.items()} for row in rows]

    ages = sorted(clean(counted(["age_min"])),
                  key=lambda row: (row["age_min"] is None, row["age_min"] or 0))
    return {"subjects": int(images["subject"].nunique()), "images": len(images),
            "groups": sorted(clean(counted(["dataset", "type", "condition"])),
                             key=lambda row: (row["dataset"], row["type"],
                                              row["condition"] is None, row["condition"] or "")),
            "sex": sorted(clean(counted(["sex"])), key=lambda row: row["sex"]),
            "age": [{**row, "age_max": None if row["age_min"] in (None, 100)
                     else row["age_min"] + 10} for row in ages]}


def _shown(stats: dict) -> dict:
    """stats_of's answer with enums as their values and each age row's keys in one order."""
    return {**stats, "groups": [{**row, "type": str(row["type"])} for row in stats["groups"]],
            "sex": [{**row, "sex": str(row["sex"])} for row in stats["sex"]],
            "age": [{key: row[key] for key in ("age_min", "subjects", "images", "age_max")}
                    for row in stats["age"]]}


def test_stats_count_what_pandas_counts_from_the_values_written(session):
    """On PostgreSQL one GROUPING SETS statement, on SQLite four: the same counts."""
    images = _random_images(session)
    assert _shown(stats_of({})) == _expected_stats(images)
    female_t1 = images[(images["type"] == "T1") & (images["sex"] == "female")]
    assert _shown(stats_of({"type": ["T1"], "sex": "female"})) == _expected_stats(female_t1)
    aged = images[images["age"].between(40, 75)]
    assert _shown(stats_of({"age_min": 40, "age_max": 75})) == _expected_stats(aged)
    assert stats_of({"age_min": 200}) == {"subjects": 0, "images": 0, "groups": [], "sex": [],
                                          "age": []}
