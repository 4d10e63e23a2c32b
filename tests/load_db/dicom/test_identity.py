"""Subject ids (PatientID, DATMAN names, folder paths, keyed pseudonyms), sex, age, scanners."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from load_db.dicom.identity import (
    carries_name,
    field_strength,
    manufacturer,
    model_name,
    parse_age,
    pseudonym,
    serial_number,
    subject_rule,
    to_sex,
)
from load_db.dicom.rules import RulesError


@pytest.mark.parametrize(("settings", "patient_id", "patient_name", "folder", "ids"), [
    ({}, "crlab", "phantom", "a/b", ("crlab", None)),
    ({"convention": "datman"}, "SPINS_CMH_0001_01_02", "", "x", ("SPINS_CMH_0001", "01")),
    ({"source": "PatientName", "convention": "datman"}, "123", "SPINS_CMH_0042_02_01", "x",
     ("SPINS_CMH_0042", "02")),
    ({"source": "path", "pattern": r"^sites/\w+/(?P<subject>sub\d+)/(?P<visit>ses\d+)/"},
     "123", "", "sites/cmh/sub07/ses2/t1", ("sub07", "ses2")),
])
def test_subject_and_visit_ids_come_from_the_subject_rule(settings, patient_id, patient_name,
                                                          folder, ids):
    assert subject_rule(settings).ids(patient_id, patient_name, folder) == ids


def test_a_name_that_does_not_follow_the_convention_is_an_error():
    with pytest.raises(ValueError, match="PatientID does not match the subject pattern"):
        subject_rule({"convention": "datman"}).ids("SPINS_CMH_PHA_FBN0013", "", "")


def test_pseudonyms_are_hmac_sha256_with_the_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("SITE_SECRET", "s3cret")
    rule = subject_rule({"pseudonym": True, "secret_env": "SITE_SECRET"})
    expected = hmac.new(b"s3cret", b"crlab", hashlib.sha256).hexdigest()[:16]
    assert rule.ids("crlab", "", "") == (expected, None)
    assert pseudonym("crlab", None) == hashlib.sha256(b"crlab").hexdigest()[:16]


@pytest.mark.parametrize(("settings", "key", "message"), [
    ({"pseudonym": True, "secret_env": "MBID_TEST_UNSET_SECRET"}, "subject.pseudonym",
     "MBID_TEST_UNSET_SECRET"),
    ({"source": "AccessionNumber"}, "subject.source", "is not one of"),
    ({"pattern": "(?P<who>x)"}, "subject.pattern", "(?P<subject>...)"),
    ({"convention": "bids"}, "subject.convention", "unknown convention"),
    ({"sauce": "PatientID"}, "subject.sauce", "unknown key"),
])
def test_bad_subject_settings_name_the_key(settings, key, message):
    with pytest.raises(RulesError) as error:
        subject_rule(settings, "site.yaml")
    assert (error.value.key, message in error.value.message) == (key, True)


@pytest.mark.parametrize(("subject", "name", "carries"), [
    ("dicom", "dicom", True), ("DOE", "Doe^John", True), ("crlab", "phantom", False),
    ("12343@hucheng", "XAtest_sub-July11", False), ("x", "", False),
])
def test_a_subject_id_that_is_the_patient_name_is_detected(subject, name, carries):
    assert carries_name(subject, name) is carries


@pytest.mark.parametrize(("value", "sex"), [("M", "male"), ("F ", "female"), ("O", "other"),
                                            ("", "unknown"), (None, "unknown")])
def test_sex(value, sex):
    assert to_sex(value) == sex


@pytest.mark.parametrize(("age", "born", "seen", "years"), [
    ("031Y", None, None, 31.0), ("006M", None, None, 0.5), ("026W", None, None, 0.5),
    ("000Y", None, None, None), ("", "19910101", "20220711", 31.52), (None, None, None, None),
    ("abc", "20250101", "20220711", None),
])
def test_age_from_patient_age_else_from_the_dates(age, born, seen, years):
    assert parse_age(age, born, seen) == years


@pytest.mark.parametrize(("raw", "vendor"), [
    ("SIEMENS ", "Siemens"), ("Siemens Healthineers", "Siemens"), ("GE MEDICAL SYSTEMS", "GE"),
    ("Philips Medical Systems", "Philips"), ("UIH", "UIH"), ("  Acme  MR ", "Acme MR"),
])
def test_vendor_names_are_normalised(raw, vendor):
    assert manufacturer(raw) == vendor


@pytest.mark.parametrize(("raw", "tesla"), [
    ("3", 3.0), (2.89, 3.0), ("3T", 3.0), ("1.494", 1.5), (15000, 1.5), ("6.98", 7.0),
    ("2.0", 2.0), ("", None),
])
def test_field_strengths_snap_to_the_nominal_value(raw, tesla):
    assert field_strength(raw) == tesla


def test_models_lose_extra_spaces_and_serials_become_pseudonyms():
    assert model_name(" MAGNETOM   Prisma Fit ") == "MAGNETOM Prisma Fit"
    assert serial_number("67093 ", None) == "sn-" + hashlib.sha256(b"67093").hexdigest()[:12]
    assert serial_number("", None) == ""
