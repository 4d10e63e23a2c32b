"""mbid_client's measures against a live server, on SQLite and PostgreSQL: the master list,
measure filters, measures as typed columns (also when nothing is known), and cohorts keeping
their measure filters, over the assessments of tests/support/measure_world.py (its table
says which value counts for each image)."""
from __future__ import annotations

import pytest
from mbid_client import BadRequest

from tests.support.measure_world import add_measures


@pytest.fixture
def assessed(session, world):
    add_measures(session, world)
    return world


def column_types(frame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_the_master_list_of_measures(mbid, assessed):
    master = mbid.measures()
    assert master["designation"].tolist() == ["MMSE", "CDR_GLOBAL", "BMI", "EDUCATION_YEARS",
                                              "HANDEDNESS"]
    assert master["kind"].tolist() == ["ordinal", "ordinal", "number", "number", "category"]
    assert (str(master["designation"].dtype), str(master["maximum"].dtype)) == (
        "string", "Float64")
    assert master.set_index("designation")["maximum"].to_dict()["MMSE"] == 30


def test_images_filtered_by_a_measure_carry_it_and_the_asked_ones_as_typed_columns(
        mbid, assessed):
    frame = mbid.images(measure=["MMSE<24"], measures=["CDR_GLOBAL", "HANDEDNESS"])
    assert assessed.names("images", frame["id"].tolist()) == ["i5", "i6", "i8"]
    added = ["CDR_GLOBAL", "CDR_GLOBAL_day", "HANDEDNESS", "HANDEDNESS_day", "MMSE",
             "MMSE_day"]
    assert list(frame.columns[-6:]) == added and "measures" not in frame.columns
    assert column_types(frame[added]) == {
        "CDR_GLOBAL": "float64", "CDR_GLOBAL_day": "Int64", "HANDEDNESS": "string",
        "HANDEDNESS_day": "Int64", "MMSE": "float64", "MMSE_day": "Int64"}
    shown = frame[added].astype(object).where(frame[added].notna(), None)
    assert shown.values.tolist() == [[None, None, None, None, 21.0, 0],
                                     [None, None, None, None, 21.0, 0],
                                     [0.5, 100, "left", 50, 23.0, 0]]


def test_several_measure_filters_all_hold_and_the_window_counts(mbid, assessed):
    frame = mbid.images(measure=["MMSE>=22", "MMSE<=25"], type="T1")
    assert assessed.names("images", frame["id"].tolist()) == ["i3", "i8"]
    # cat's MMSE of day 0 is 365 days before i5's scan: outside a 364-day window.
    frame = mbid.images(measure="MMSE<24", measure_window=364)
    assert assessed.names("images", frame["id"].tolist()) == ["i6", "i8"]
    assert frame["MMSE"].tolist() == [21.0, 23.0]
    frame = mbid.images(measure="CDR_GLOBAL=0.5,1")
    assert assessed.names("images", frame["id"].tolist()) == ["i3", "i4", "i8"]
    frame = mbid.images(measure="HANDEDNESS=right", type="T1")
    assert assessed.names("images", frame["id"].tolist()) == ["i1", "i3"]
    assert frame["HANDEDNESS"].tolist() == ["right", "right"]


def test_measure_columns_are_typed_when_every_value_or_row_is_missing(mbid, assessed):
    frame = mbid.images(dataset="BETA", measures=["BMI", "EDUCATION_YEARS", "HANDEDNESS"],
                        type="rsfMRI")
    assert assessed.names("images", frame["id"].tolist()) == ["i5"]
    assert frame.iloc[:, -6:].isna().all().all()
    assert column_types(frame.iloc[:, -6:]) == {
        "BMI": "float64", "BMI_day": "Int64", "EDUCATION_YEARS": "float64",
        "EDUCATION_YEARS_day": "Int64", "HANDEDNESS": "string", "HANDEDNESS_day": "Int64"}
    empty = mbid.images(sex="other", measures="MMSE,HANDEDNESS")
    assert empty.empty and column_types(empty.iloc[:, -4:]) == {
        "MMSE": "float64", "MMSE_day": "Int64", "HANDEDNESS": "string",
        "HANDEDNESS_day": "Int64"}


def test_subjects_and_visits_by_measure(mbid, assessed):
    subjects = mbid.subjects(measure="MMSE<24")
    # A subject matches when any of its values does, and shows its latest one.
    assert subjects["external_id"].tolist() == ["ann", "cat", "eve"]
    assert subjects["MMSE"].tolist() == [22.0, 21.0, 18.0]
    assert subjects["MMSE_day"].tolist() == [725, 0, 500]
    visits = mbid.visits(measure="MMSE<24", measures=["CDR_GLOBAL"])
    assert visits["external_id"].tolist() == ["c0", "c1", "e0"]
    assert visits["MMSE"].tolist() == [21.0, 21.0, 23.0]
    assert visits["MMSE_day"].tolist() == [0, 0, 0]
    assert visits["CDR_GLOBAL"].fillna(-1).tolist() == [-1, -1, 0.5]


def test_a_bad_measure_filter_is_a_bad_request_naming_it(mbid, assessed):
    for wrong in ("MMSE<<3", "NOPE<3", "MMSE<many", "HANDEDNESS>left"):
        with pytest.raises(BadRequest) as bad:
            mbid.images(measure=wrong)
        assert "measure" in bad.value.errors, wrong


def test_a_cohort_keeps_its_measure_filters(mbid, assessed):
    cohort = mbid.create_cohort("low MMSE", measure=["MMSE<24"], type="T1")
    assert cohort.image_count == 2 and cohort.query == {"measure": ["MMSE<24"],
                                                        "type": ["T1"]}
    assert mbid.manifest(cohort)["path"].tolist() == ["BETA/cat/i6.nii.gz",
                                                      "BETA/eve/i8.nii.gz"]


def test_a_measure_asked_in_any_case_is_one_column_spelled_as_the_master_list(mbid, assessed):
    frame = mbid.images(type="T1", dataset="ALPHA", measures=["mmse"], measure="Mmse>=25")
    assert assessed.names("images", frame["id"].tolist()) == ["i1", "i3"]
    assert list(frame.columns[-2:]) == ["MMSE", "MMSE_day"]
    assert frame["MMSE"].tolist() == [29.0, 25.0]


def test_stats_give_a_measures_quartiles_per_dataset(mbid, assessed):
    stats = mbid.stats(distribution="MMSE")
    # ALPHA holds MMSE 29, 22 and 25 (ann); BETA 21 (cat), 23 and 18 (eve).
    assert stats["distribution"].values.tolist() == [
        ["ALPHA", 3, 22.0, 23.5, 25.0, 27.0, 29.0], ["BETA", 3, 18.0, 19.5, 21.0, 22.0, 23.0]]
    assert list(stats["distribution"].columns) == ["dataset", "count", "min", "q1", "median",
                                                   "q3", "max"]
    assert str(stats["distribution"]["median"].dtype) == "Float64"
    assert "distribution" not in mbid.stats(measure="MMSE<24")
