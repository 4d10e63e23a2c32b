"""load_db/seed/load_measure.py and the typed master lists: values stored as typed, bad cells
named by file, row and column."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from app.models import Condition, Measure, MeasureKind
from globals import SEED_DIR
from load_db.engine import LoadError, run_load
from load_db.seed import load_condition, load_measure

HEADER = ("designation,description,kind,unit,minimum,maximum,levels,per_subject,vocabulary,"
          "term_code,term_url")
GOOD = ("MMSE,Mini-Mental,ordinal,points,0,30,,no,LOINC,72106-8,https://loinc.org/72106-8/")


def seed_dir_with_measures(tmp_path, *lines: str, header: str = HEADER):
    seed_dir = shutil.copytree(SEED_DIR, tmp_path / "seed")
    (seed_dir / "measures_list.csv").write_text("\n".join([header, *lines]) + "\n")
    return seed_dir


def test_seeding_stores_every_measure_typed_and_again_changes_nothing(app, session):
    first = run_load(session, "seed.measure", load_measure.load, SEED_DIR)
    assert vars(first.counts("measure")) == {"inserted": 18, "updated": 0, "unchanged": 0}
    session.expire_all()
    stored = {m.designation: m for m in session.scalars(select(Measure))}

    cdr = stored["CDR_GLOBAL"]
    assert (cdr.kind, cdr.unit, cdr.minimum, cdr.maximum, cdr.per_subject) \
        == (MeasureKind.ORDINAL, None, 0.0, 3.0, False)
    assert cdr.levels == {"0": "No dementia", "0.5": "Questionable or very mild dementia",
                          "1": "Mild dementia", "2": "Moderate dementia",
                          "3": "Severe dementia"}
    assert (cdr.vocabulary, cdr.term_code, cdr.term_url) == (None, None, None)
    hand = stored["HANDEDNESS"]
    assert (hand.kind, hand.minimum, hand.maximum, hand.per_subject) \
        == (MeasureKind.CATEGORY, None, None, True)
    assert hand.levels == {"right": "Right-handed", "left": "Left-handed",
                           "ambidextrous": "Ambidextrous (no dominant hand)"}
    mmse = stored["MMSE"]
    assert (mmse.kind, mmse.unit, mmse.minimum, mmse.maximum, mmse.vocabulary, mmse.term_code,
            mmse.term_url) == (MeasureKind.ORDINAL, "points", 0.0, 30.0, "LOINC", "72106-8",
                               "https://loinc.org/72106-8/")
    assert (stored["BMI"].kind, stored["BMI"].unit, stored["BMI"].minimum) \
        == (MeasureKind.NUMBER, "kg/m2", 10.0)
    assert {d for d, m in stored.items() if m.per_subject} \
        == {"EDUCATION_YEARS", "HANDEDNESS", "APOE_E4"}

    second = run_load(session, "seed.measure", load_measure.load, SEED_DIR)
    assert vars(second.counts("measure")) == {"inserted": 0, "updated": 0, "unchanged": 18}


def test_reseeding_updates_a_changed_range_and_levels(app, session, tmp_path):
    run_load(session, "seed.measure", load_measure.load,
             seed_dir_with_measures(tmp_path / "1", GOOD))
    changed = seed_dir_with_measures(
        tmp_path / "2", GOOD.replace(",0,30,,no,", ',1,29,"{""1"": ""one""}",yes,'))
    report = run_load(session, "seed.measure", load_measure.load, changed)
    assert vars(report.counts("measure")) == {"inserted": 0, "updated": 1, "unchanged": 0}
    session.expire_all()
    mmse = session.scalar(select(Measure))
    assert (mmse.minimum, mmse.maximum, mmse.levels, mmse.per_subject) \
        == (1.0, 29.0, {"1": "one"}, True)


@pytest.mark.parametrize(("cell", "stored"), [
    ("yes", True), ("YES", True), ("true", True), ("1", True), ("no", False), ("False", False),
    ("0", False), ("", False)])
def test_per_subject_is_a_yes_no_cell_defaulting_to_no(app, session, tmp_path, cell, stored):
    seed_dir = seed_dir_with_measures(tmp_path, GOOD.replace(",no,", f",{cell},"))
    run_load(session, "seed.measure", load_measure.load, seed_dir)
    assert session.scalar(select(Measure.per_subject)) is stored


def test_condition_terms_are_seeded(app, session):
    run_load(session, "seed.condition", load_condition.load, SEED_DIR)
    session.expire_all()
    terms = {c.designation: (c.vocabulary, c.term_code)
             for c in session.scalars(select(Condition))}
    assert terms["Healthy Control"] == ("NCIT", "C94342")
    assert terms["Alzheimer's Disease"] == ("SNOMED CT", "26929004")
    assert terms["Normal Breast Screening"] == (None, None)


@pytest.mark.parametrize(("line", "column", "problem"), [
    (GOOD.replace("ordinal", "scale"), "kind",
     "unknown value 'scale' (expected one of 'number', 'ordinal', 'category')"),
    (GOOD.replace(",0,30,", ",zero,30,"), "minimum", "not a number: 'zero'"),
    (GOOD.replace(",0,30,", ",0,inf,"), "maximum", "not a finite number: 'inf'"),
    (GOOD.replace(",no,", ",maybe,"), "per_subject", "unknown value 'maybe'"),
    (GOOD.replace(",0,30,,", ',0,30,"{""0"": ,}",'), "levels", "Expecting value"),
    (GOOD.replace(",0,30,,", ",0,30,[0],"), "levels", "not a JSON object: '[0]'"),
    (GOOD.replace(",ordinal,", ",,"), "kind", "empty value"),
    (GOOD.replace(",0,30,", ",30,0,"), "maximum", "0.0 is below the minimum 30.0"),
    (GOOD.replace(",0,30,", ",,30,"), "minimum",
     "ordinal measures need a range (minimum and maximum)"),
    (GOOD.replace("ordinal,points", "number,"), "unit", "a number measure needs a unit"),
    (GOOD.replace("ordinal,points,0,30,", "category,,,,"), "levels",
     "a category measure needs its levels"),
    (GOOD.replace("ordinal,points,0,30,,", 'category,,0,,"{""a"": ""A""}",'), "minimum",
     "a category has no range"),
    (GOOD.replace(",0,30,,", ',0,30,"{""31"": ""x""}",'), "levels",
     "level '31' is outside 0.0..30.0"),
    (GOOD.replace(",0,30,,", ',0,30,"{""x"": ""y""}",'), "levels",
     "level 'x' of an ordinal scale is not a number"),
    (GOOD.replace("LOINC,", ","), "vocabulary", "empty, but term_code, term_url given"),
    (GOOD.replace("https://loinc", "http://loinc"), "term_url",
     "'http://loinc.org/72106-8/' is not an https URL"),
    (GOOD.replace("points", "p" * 33), "unit", "33 characters, more than the 32"),
])
def test_a_bad_cell_stops_the_seed_naming_file_row_and_column(app, session, tmp_path, line,
                                                              column, problem):
    seed_dir = seed_dir_with_measures(tmp_path, GOOD.replace("MMSE", "MOCA"), line)
    with pytest.raises(LoadError) as error:
        run_load(session, "seed.measure", load_measure.load, seed_dir)
    assert (error.value.file, error.value.row, error.value.column) \
        == (seed_dir / "measures_list.csv", 3, column)
    assert problem in error.value.message
    assert session.scalar(select(Measure)) is None


def test_a_column_the_model_lacks_is_refused(app, session, tmp_path):
    seed_dir = seed_dir_with_measures(tmp_path, GOOD + ",x", header=HEADER + ",colour")
    with pytest.raises(LoadError) as error:
        run_load(session, "seed.measure", load_measure.load, seed_dir)
    assert (error.value.row, error.value.column) == (1, "colour")
    assert error.value.message.startswith("unknown column (allowed: designation, description")
