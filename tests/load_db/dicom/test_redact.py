"""Free text checked against the patient's name parts and birth date."""
from __future__ import annotations

from datetime import date

import pytest

from load_db.dicom.redact import date_spellings, name_parts, redact_values, redactor

BORN = date(1980, 2, 7)


@pytest.mark.parametrize(("name", "parts"), [
    ("DOEPHI^JANE", ["doephi", "jane"]),
    ("Doephi-Smyth^Jane^Q^Dr^Jr", ["doephi", "smyth", "jane"]),
    ("DOE^JANE=ドウ^ジェーン", ["jane", "ジェーン", "doe", "ドウ"]),
    ("XAtest_sub-July11", ["july11", "xatest", "sub"]),
    ("", []),
])
def test_name_parts_are_the_words_of_family_given_and_middle_names(name, parts):
    assert name_parts(name) == parts


@pytest.mark.parametrize(("text", "clean", "count"), [
    ("T1 MPRAGE Janephi Doephi", "T1 MPRAGE Janephi [name]", 1),
    ("T1 MPRAGE Jane Doephi", "T1 MPRAGE [name] [name]", 2),
    ("t1_doephi_jane", "t1_[name]_[name]", 2),
    ("JANEDOEPHI rest", "[name] rest", 1),
    ("doephijane2", "[name]2", 1),
    ("Resting state Janet", "Resting state Janet", 0),
    ("MPRAGE 19800207", "MPRAGE [date]", 1),
    ("dob 07/02/1980 fmri", "dob [date] fmri", 1),
    ("dob 2/7/1980", "dob [date]", 1),
    ("1980-02-07", "[date]", 1),
    ("7 Feb 1980", "[date]", 1),
    ("February 07, 1980", "[date]", 1),
    ("TR 119800207", "TR 119800207", 0),
    ("DWI_dir80_PA", "DWI_dir80_PA", 0),
])
def test_the_name_in_any_order_and_case_and_the_birth_date_are_redacted(text, clean, count):
    assert redactor("DOEPHI^JANE", BORN).redact(text) == (clean, count)


def test_a_patient_without_name_or_birth_date_redacts_nothing():
    assert redactor("", None).redact("T1 Jane 19800207") == ("T1 Jane 19800207", 0)


def test_date_spellings_are_year_first_or_last_with_or_without_zeros():
    spellings = set(date_spellings(BORN))
    assert {"19800207", "1980-02-07", "07.02.1980", "02/07/1980", "2/7/1980", "07feb1980",
            "feb 7 1980"} <= spellings
    assert "198027" not in spellings


def test_values_are_redacted_inside_lists_and_the_keys_changed_are_named():
    values = {"SeriesDescription": "T1 Doephi", "ImageType": ["ORIGINAL", "JANE"],
              "EchoTime": 3.0, "ProtocolName": "T1"}
    clean, changed = redact_values(values, redactor("DOEPHI^JANE", BORN))
    assert clean == {"SeriesDescription": "T1 [name]", "ImageType": ["ORIGINAL", "[name]"],
                     "EchoTime": 3.0, "ProtocolName": "T1"}
    assert changed == ["SeriesDescription", "ImageType"]
