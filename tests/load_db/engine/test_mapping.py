"""Mapping files: validation errors name the file and key; conditions and values are mapped by
pure functions (table-driven)."""
import hashlib

import pytest

from load_db.engine.errors import LoadError
from load_db.engine.mapping import (
    MeasureInfo,
    MeasureSource,
    condition_for,
    harmonised,
    read_mapping,
)

RULES = """
conditions:
  values: {special: Other}
  fields: 'score (?P<score>\\S+); note ?(?P<note>.*)'
  rules:
    - condition: Healthy
      when: {score: {equals: 0}}
    - condition: Mild
      when: {score: {one_of: [0.5, "half"]}}
    - condition: Named
      when: {score: {min: 1, max: 2}, note: {matches: '\\bX\\b', not_matches: '(?i)\\bnot X\\b'}}
    - condition: Severe
      when: {score: {min: 1}}
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(RULES)
    return read_mapping(path)


@pytest.mark.parametrize(("label", "designation"), [
    ("special", "Other"),                 # the value map first
    ("score 0; note X", "Healthy"),
    ("score 0.0; note", "Healthy"),      # numbers compare as numbers
    ("score 0.5; note X", "Mild"),
    ("score half; note", "Mild"),
    ("score 1; note X", "Named"),
    ("score 2; note has X in it", "Named"),
    ("score 1; note not X", "Severe"),   # ruled out
    ("score 1; note NOT X", "Severe"),
    ("score 3; note X", "Severe"),       # above max
    ("score 1; note XY", "Severe"),      # X must be a word
])
def test_rules_map_labels_in_order(rules, label, designation):
    assert rules.condition_for(label) == designation


@pytest.mark.parametrize("label", ["score -1; note", "other", "score abc; note"])
def test_a_label_no_rule_maps_is_a_key_error(rules, label):
    with pytest.raises(KeyError):
        rules.condition_for(label)


def test_the_version_is_the_sha256_of_the_bytes(rules, tmp_path):
    assert rules.version == hashlib.sha256(RULES.encode()).hexdigest()
    (tmp_path / "other.yaml").write_text(RULES + "\n")
    assert read_mapping(tmp_path / "other.yaml").version != rules.version


@pytest.mark.parametrize(("text", "message"), [
    ("conditions: [a]", "key conditions: Input should be a valid dictionary"),
    ("measures:\n  - {measure: MMSE, file: f.csv}", "key measures.0.column: Field required"),
    ("measures:\n  - {measure: MMSE, file: f.csv, column: c, scale: big}",
     "key measures.0.scale: Input should be a valid number"),
    ("measures:\n  - {measure: MMSE, file: f.csv, column: c, level: day}",
     "key measures.0.level: Input should be 'visit' or 'subject'"),
    ("measures:\n  - {measure: MMSE, file: f.csv, column: c, unit: cm}",
     "key measures.0.unit: Extra inputs are not permitted"),
    ("measures:\n  - {measure: MMSE, file: f.csv, column: c}\n"
     "  - {measure: MMSE, file: g.csv, column: c}",
     "measure 'MMSE' from column 'c' is mapped twice"),
    ("conditions:\n  fields: '(?P<a>x'", "key conditions.fields: Value error, not a regular "
                                         "expression"),
    ("conditions:\n  fields: '(?P<a>.*)'\n  rules:\n    - {condition: A, when: {b: {min: 1}}}",
     "rule 1 tests 'b', which is not a field of the labels (fields: a)"),
    ("conditions:\n  rules:\n    - {condition: A, when: {label: {matches: '('}}}",
     "key conditions.rules.0.when.label.matches: Value error, not a regular expression"),
    ("conditions: {values: {a: B}", "not YAML"),
    ("- a\n- b", "a mapping file is a YAML mapping"),
    ("colour: red", "key colour: Extra inputs are not permitted"),
])
def test_a_bad_mapping_file_is_a_load_error_naming_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(LoadError) as raised:
        read_mapping(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_a_missing_mapping_file_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="cannot read the mapping file"):
        read_mapping(tmp_path / "mapping.yaml")


MMSE = MeasureInfo("MMSE", "ordinal", 0, 30)
CDR = MeasureInfo("CDR_GLOBAL", "ordinal", 0, 3, ("0", "0.5", "1", "2", "3"))
HEIGHT = MeasureInfo("HEIGHT", "number", 50, 250)
HAND = MeasureInfo("HANDEDNESS", "category", levels=("right", "left", "ambidextrous"))
MISSING = frozenset({"", "NA"})


def source(**fields):
    return MeasureSource(measure="X", file="f.csv", column="c", **fields)


@pytest.mark.parametrize(("raw", "entry", "measure", "value"), [
    ("29", source(), MMSE, (29.0, None)),
    (" 29 ", source(), MMSE, (29.0, None)),
    ("0.5", source(), CDR, (0.5, None)),
    ("61.0", source(scale=2.54), HEIGHT, (pytest.approx(154.94), None)),
    ("32", source(scale=5 / 9, offset=-160 / 9), MeasureInfo("T", "number"), (0.0, None)),
    ("R", source(values={"R": "right", "B": "ambidextrous"}), HAND, (None, "right")),
    ("B", source(values={"R": "right", "B": "ambidextrous"}), HAND, (None, "ambidextrous")),
    ("left", source(), HAND, (None, "left")),
    ("severe", source(values={"severe": 3}), CDR, (3.0, None)),
    ("", source(), MMSE, None),
    ("NA", source(), MMSE, None),
    (None, source(), MMSE, None),
    (float("nan"), source(), MMSE, None),
])
def test_harmonised_values(raw, entry, measure, value):
    assert harmonised(raw, entry, measure, MISSING) == value


@pytest.mark.parametrize(("raw", "entry", "measure", "message"), [
    ("31", source(), MMSE, "'31' gives 31, outside MMSE's range 0 to 30"),
    ("-1", source(), MMSE, "outside MMSE's range"),
    ("0.25", source(), CDR, "'0.25' is not a level of CDR_GLOBAL (0, 0.5, 1, 2, 3)"),
    ("abc", source(), MMSE, "'abc' is not a number (measure MMSE)"),
    ("inf", source(), MMSE, "'inf' is not a number"),
    ("100", source(scale=2.54), HEIGHT, "'100' gives 254, outside HEIGHT's range 50 to 250"),
    ("X", source(values={"R": "right"}), HAND,
     "'X' gives 'X', not a level of HANDEDNESS (right, left, ambidextrous)"),
])
def test_bad_values_say_why(raw, entry, measure, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        harmonised(raw, entry, measure, MISSING)


def test_levels_as_a_document_or_a_list():
    assert MeasureInfo.of("H", "category", None, None, {"right": "Right", "left": "Left"}).levels \
        == ("right", "left")
    assert MeasureInfo.of("C", "ordinal", 0, 3, [0, 0.5]).levels == ("0", "0.5")


def test_condition_for_without_fields_tests_the_whole_label(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("conditions:\n  rules:\n    - {condition: Pain, when: {label: "
                    "{matches: pain}}}\n")
    conditions = read_mapping(path).content.conditions
    assert condition_for(conditions, "back pain") == "Pain"
    with pytest.raises(KeyError):
        condition_for(conditions, "healthy")
