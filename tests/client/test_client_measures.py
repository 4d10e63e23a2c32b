"""mbid_client's measures against a live server, on SQLite and PostgreSQL: the master list,
measure filters, measures as typed columns (also when nothing is known), and cohorts keeping
their measure filters, over the assessments of tests/support/assessments.py."""
from __future__ import annotations

import pytest
from mbid_client import BadRequest

from tests.support.assessments import assess_world


@pytest.fixture
def assessed(session, world):
    assess_world(session, world)
    return world


def column_types(frame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_the_master_list_of_measures(mbid, assessed):
    master = mbid.measures()
    assert master["designation"].tolist() == ["MMSE", "CDR_GLOBAL", "HANDEDNESS"]
    assert master["kind"].tolist() == ["ordinal", "ordinal", "category"]
    assert (str(master["designation"].dtype), str(master["maximum"].dtype)) == (
        "string", "Float64")
    assert master.set_index("designation")["maximum"].to_dict()["MMSE"] == 30


def test_images_filtered_by_a_measure_carry_it_and_the_asked_ones_as_typed_columns(
        mbid, assessed):
    frame = mbid.images(measure=["MMSE<24"], measures=["CDR_GLOBAL", "HANDEDNESS"])
    assert assessed.names("images", frame["id"].tolist()) == ["i3", "i5", "i8"]
    added = ["CDR_GLOBAL", "CDR_GLOBAL_day", "HANDEDNESS", "HANDEDNESS_day", "MMSE",
             "MMSE_day"]
    assert list(frame.columns[-6:]) == added and "measures" not in frame.columns
    assert column_types(frame[added]) == {
        "CDR_GLOBAL": "float64", "CDR_GLOBAL_day": "Int64", "HANDEDNESS": "string",
        "HANDEDNESS_day": "Int64", "MMSE": "float64", "MMSE_day": "Int64"}
    shown = frame[added].astype(object).where(frame[added].notna(), None)
    assert shown.values.tolist() == [[0.5, 730, "right", 0, 22.0, 730],
                                     [None, None, None, None, 23.0, 300],
                                     [None, None, None, None, 20.0, 100]]


def test_several_measure_filters_all_hold_and_the_window_counts(mbid, assessed):
    frame = mbid.images(measure=["MMSE>=21", "MMSE<=23"], type="T1")
    assert assessed.names("images", frame["id"].tolist()) == ["i3"]
    # cat's MMSE of day 300 is 65 days before i5's scan: outside a 30-day window.
    frame = mbid.images(measure="MMSE<24", measure_window=30)
    assert assessed.names("images", frame["id"].tolist()) == ["i3", "i8"]
    assert frame["MMSE"].tolist() == [22.0, 20.0]
    frame = mbid.images(measure="CDR_GLOBAL=0.5,1")
    assert assessed.names("images", frame["id"].tolist()) == ["i3"]
    frame = mbid.images(measure="HANDEDNESS=right", type="T1")
    assert assessed.names("images", frame["id"].tolist()) == ["i1", "i3"]
    assert frame["HANDEDNESS"].tolist() == ["right", "right"]


def test_measure_columns_are_typed_when_every_value_or_row_is_missing(mbid, assessed):
    frame = mbid.images(dataset="BETA", measures=["CDR_GLOBAL", "HANDEDNESS"])
    assert assessed.names("images", frame["id"].tolist()) == ["i5", "i6", "i7", "i8"]
    assert frame[["CDR_GLOBAL", "HANDEDNESS", "HANDEDNESS_day"]].isna().all().all()
    assert column_types(frame.iloc[:, -4:]) == {
        "CDR_GLOBAL": "float64", "CDR_GLOBAL_day": "Int64", "HANDEDNESS": "string",
        "HANDEDNESS_day": "Int64"}
    empty = mbid.images(sex="other", measures="MMSE,HANDEDNESS")
    assert empty.empty and column_types(empty.iloc[:, -4:]) == {
        "MMSE": "float64", "MMSE_day": "Int64", "HANDEDNESS": "string",
        "HANDEDNESS_day": "Int64"}


def test_subjects_and_visits_by_measure(mbid, assessed):
    subjects = mbid.subjects(measure="MMSE<24")
    assert subjects["external_id"].tolist() == ["ann", "cat", "eve"]
    assert str(subjects["MMSE"].dtype) == "float64"
    visits = mbid.visits(measure="MMSE<24", measures=["CDR_GLOBAL"])
    assert visits["external_id"].tolist() == ["a1", "c1", "e0"]
    assert visits["MMSE"].tolist() == [22.0, 23.0, 20.0]
    assert visits["MMSE_day"].tolist() == [730, 300, 100]
    assert visits["CDR_GLOBAL"].fillna(-1).tolist() == [0.5, -1, -1]


def test_a_bad_measure_filter_is_a_bad_request_naming_it(mbid, assessed):
    for wrong in ("MMSE<<3", "NOPE<3", "MMSE<many", "HANDEDNESS>left"):
        with pytest.raises(BadRequest) as bad:
            mbid.images(measure=wrong)
        assert "measure" in bad.value.errors, wrong


def test_a_cohort_keeps_its_measure_filters(mbid, assessed):
    cohort = mbid.create_cohort("low MMSE", measure=["MMSE<24"], type="T1")
    assert cohort.image_count == 2 and cohort.query == {"measure": ["MMSE<24"],
                                                        "type": ["T1"]}
    assert mbid.manifest(cohort)["path"].tolist() == ["ALPHA/ann/i3.nii.gz",
                                                      "BETA/eve/i8.nii.gz"]


def test_a_measure_asked_in_any_case_is_one_column_spelled_as_the_master_list(mbid, assessed):
    frame = mbid.images(type="T1", dataset="ALPHA", measures=["mmse"], measure="Mmse>25")
    assert assessed.names("images", frame["id"].tolist()) == ["i1", "i4"]
    assert list(frame.columns[-2:]) == ["MMSE", "MMSE_day"]
    assert frame["MMSE"].tolist() == [29.0, 27.0]


def test_stats_give_a_measures_quartiles_per_dataset(mbid, assessed):
    stats = mbid.stats(distribution="MMSE")
    # ALPHA holds MMSE 29, 22 (ann) and 27 (bob); BETA 23 (cat) and 20 (eve).
    assert stats["distribution"].values.tolist() == [
        ["ALPHA", 3, 22.0, 24.5, 27.0, 28.0, 29.0], ["BETA", 2, 20.0, 20.75, 21.5, 22.25, 23.0]]
    assert list(stats["distribution"].columns) == ["dataset", "count", "min", "q1", "median",
                                                   "q3", "max"]
    assert str(stats["distribution"]["median"].dtype) == "Float64"
    assert "distribution" not in mbid.stats(measure="MMSE<24")
