"""Visit linking: each image goes to its session's visit, else the closest one on or before
its day."""
import pandas as pd
import pytest

from load_db.engine import LoadReport
from load_db.engine.linking import NO_PAST_VISIT, link_visits


def visits_table(*rows):
    """(visit_id, subject_id, external_id, days) rows as the engine reads them from the DB."""
    table = pd.DataFrame(rows, columns=["visit_id", "subject_id", "external_id",
                                        "days_since_baseline"])
    return table.astype({"days_since_baseline": "Int64"})


def images_table(*rows, with_visit=False):
    columns = ["subject_id", "path", "days_since_baseline"] + (["visit"] if with_visit else [])
    return pd.DataFrame(rows, columns=columns).astype({"days_since_baseline": "Int64"})


def linked(images, visits):
    report = LoadReport()
    result = link_visits(images, visits, report)
    visit_ids = [None if pd.isna(v) else int(v) for v in result["visit_id"]]
    return dict(zip(result["path"], visit_ids, strict=True)), report


VISITS = visits_table((10, 1, "v0", 0), (11, 1, "v100", 100), (12, 1, "v300", 300),
                      (20, 2, "w50", 50))


@pytest.mark.parametrize(("subject", "day", "expected_visit"), [
    (1, 0, 10),      # same day as the first visit
    (1, 100, 11),    # same day pairs stay together
    (1, 99, 10),     # the day before a visit: the earlier one, never the later
    (1, 250, 11),    # between visits: the closest in the past
    (1, 5000, 12),   # after the last visit
    (2, 10, None),   # only a future visit: no visit
    (3, 0, None),    # a subject without visits
])
def test_image_goes_to_the_closest_visit_on_or_before_its_day(subject, day, expected_visit):
    result, _ = linked(images_table((subject, "img", day)), VISITS)
    assert result == {"img": expected_visit}


def test_unsorted_images_several_per_visit_and_visits_without_images():
    images = images_table((1, "c", 310), (2, "d", 50), (1, "a", 120), (1, "b", 101), (1, "e", -3))
    result, report = linked(images, VISITS.sample(frac=1, random_state=3))
    assert result == {"a": 11, "b": 11, "c": 12, "d": 20, "e": None}
    assert report.notes == {NO_PAST_VISIT: 1}
    assert report.examples[NO_PAST_VISIT] == ["e"]


def test_tie_between_two_same_day_visits_is_deterministic():
    visits = visits_table((31, 1, "a", 7), (30, 1, "b", 7))
    assert linked(images_table((1, "img", 7)), visits)[0] == {"img": 31}
    assert linked(images_table((1, "img", 7)), visits.iloc[::-1])[0] == {"img": 31}


def test_session_label_wins_over_days_and_unknown_label_falls_back_to_days():
    images = images_table((1, "in-session", 999, "v0"), (1, "unknown-session", 120, "v9"),
                          (1, "no-day", None, None), with_visit=True)
    result, report = linked(images, VISITS)
    assert result == {"in-session": 10, "unknown-session": 11, "no-day": None}
    assert sum(report.notes.values()) == 1
