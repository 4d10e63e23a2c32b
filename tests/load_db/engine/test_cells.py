"""Cell conversion: one "missing", a strict and a lenient number parser, one key check."""
import json
import math
import re

import pandas as pd
import pytest

from load_db.engine import LoadError
from load_db.engine.cells import (
    MISSING_TEXT,
    float_or_none,
    from_table,
    is_missing,
    json_value,
    printable,
    to_float,
    to_int,
    to_text,
    to_value,
)
from load_db.engine.tables import check_key


@pytest.mark.parametrize("text", sorted(MISSING_TEXT) + [None, "  n/a "])
def test_every_converter_reads_a_missing_cell_as_none(text):
    assert is_missing(text)
    assert (to_value(text), float_or_none(text), to_float(text), to_int(text), to_text(text)) \
        == (None, None, None, None, None)
    assert from_table({"F": "female"}, empty="unknown")(text or "") == "unknown"


@pytest.mark.parametrize(("text", "strict", "lenient"), [
    ("12", 12.0, 12.0), (" 1.5 ", 1.5, 1.5), ("-3e2", -300.0, -300.0), ("007", 7.0, None)])
def test_numbers(text, strict, lenient):
    assert to_float(text) == strict
    assert float_or_none(text) == lenient


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "not a number: 'abc'"), ("inf", "not a finite number: 'inf'"),
    ("-Infinity", "not a finite number")])
def test_strict_parser_rejects_what_the_lenient_one_leaves_unknown(text, message):
    with pytest.raises(ValueError, match=message):
        to_float(text)
    assert float_or_none(text) is None


def test_to_int_and_to_value():
    assert to_int("12.0") == 12
    with pytest.raises(ValueError, match="not a whole number: '1.5'"):
        to_int("1.5")
    assert [to_value(t) for t in ("3", "0.5", "007", "inf", "x")] == [3, 0.5, "007", "inf", "x"]
    assert not math.isnan(float_or_none("1e3"))


@pytest.mark.parametrize(("keys", "message"), [
    (["a", "b", "a"], "f.csv, row 4, column 'id': duplicate value 'a' (first at row 2)"),
    (["a", "", "b"], "f.csv, row 3, column 'id': empty value"),
    (pd.DataFrame({"s": ["1", "1", "2", "1"], "v": ["x", "y", "x", "y"]}),
     "f.csv, row 5, column 'id': duplicate visit '1, y' (first at row 3)"),
])
def test_one_key_check_names_the_repeat_and_its_first_row(keys, message):
    with pytest.raises(LoadError) as error:
        check_key(keys, lambda position: {"file": "f.csv", "row": position + 2, "column": "id"},
                  what="visit" if isinstance(keys, pd.DataFrame) else "value")
    assert str(error.value) == message


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
    ("[" * 100 + "]" * 100, json.loads("[" * 100 + "]" * 100)),
    ('{"n": -' + "9" * 100 + "}", {"n": -int("9" * 100)}),
    ('{"x": 1.5e300}', {"x": 1.5e300}),
    # more than 100 brackets, yet shallow: side by side, or inside a string
    ("[" + ", ".join(["[{}]"] * 150) + "]", [[{}]] * 150),
    ('{"a": "' + "[" * 200 + '"}', {"a": "[" * 200}),
])
def test_json_value_reads_documents_within_the_limits(text, value):
    assert json_value(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 101 + "]" * 101, "nested deeper than 100 levels"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than 100 levels"),
    ('{"n": ' + "9" * 101 + "}", "an integer of 101 digits (more than 100)"),
    ('{"n": -' + "9" * 5_000 + "}", "an integer of 5000 digits (more than 100)"),
])
def test_json_value_refuses_what_readers_and_databases_cannot_take(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        json_value(text)


def test_json_value_leaves_corrupt_json_to_the_callers_message():
    with pytest.raises(json.JSONDecodeError):
        json_value('{"a": ')


@pytest.mark.parametrize(("text", "shown"), [
    ("plain é text", "plain é text"),
    ("a\nb\x00c", "a\\x0ab\\x00c"),
    ("caf\udce9.dcm", "caf\\xe9.dcm"),  # a file name byte that is not UTF-8
    ("\ud800", "\\ud800"),
])
def test_printable_escapes_what_a_report_or_database_cannot_take(text, shown):
    assert printable(text) == shown
