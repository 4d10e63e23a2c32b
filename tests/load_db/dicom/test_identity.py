"""Subject ids (research ids, DATMAN names, folder paths, keyed pseudonyms), sex, age, scanners."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

import pytest

from load_db.dicom.identity import (
    NAME_AS_ID,
    NOT_RESEARCH_ID,
    carries_name,
    field_strength,
    manufacturer,
    model_name,
    parse_age,
    parse_date,
    pseudonym,
    scanner_values,
    serial_number,
    study_visit,
    subject_rule,
    to_sex,
)
from load_db.dicom.secret import deployment_secret
from load_db.study import RulesError


@pytest.mark.parametrize(("settings", "patient_id", "patient_name", "folder", "ids"), [
    ({"research_id": "crlab|crl[0-9]+"}, "crlab", "phantom", "a/b", ("crlab", None, None)),
    ({"convention": "datman"}, "SPINS_CMH_0001_01_02", "", "x", ("SPINS_CMH_0001", "01", None)),
    # DATMAN sites write the session name in PatientName too: an id, not a person's name.
    ({"convention": "datman"}, "SPINS_CMH_0001_01_02", "SPINS_CMH_0001_01_02", "x",
     ("SPINS_CMH_0001", "01", None)),
    ({"source": "PatientName", "convention": "datman"}, "123", "SPINS_CMH_0042_02_01", "x",
     ("SPINS_CMH_0042", "02", None)),
    ({"source": "path", "pattern": r"^sites/\w+/(?P<subject>sub\d+)/(?P<visit>ses\d+)/"},
     "123", "", "sites/cmh/sub07/ses2/t1", ("sub07", "ses2", None)),
])
def test_a_declared_research_id_is_stored_as_it_is(settings, patient_id, patient_name, folder,
                                                   ids):
    assert subject_rule(settings).ids(patient_id, patient_name, folder) == ids


def _keyed(value: str) -> str:
    return hmac.new(deployment_secret(), value.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(("settings", "patient_id", "patient_name", "note"), [
    # The findings: a hospital's MRN, a social security number, a name in another order.
    ({}, "MRN884422", "DOEPHI^JANE", NOT_RESEARCH_ID),
    ({}, "123-45-6789", "DOEPHI^JANE", NOT_RESEARCH_ID),
    ({}, "Jane Doephi", "DOEPHI^JANE", NOT_RESEARCH_ID),
    ({"research_id": "[a-z0-9]+"}, "MRN884422", "DOEPHI^JANE", None),
    ({"research_id": r"[a-z ]+"}, "Jane Doephi", "DOEPHI^JANE", NAME_AS_ID),
    ({"research_id": "[a-z]+"}, "JANEDOEPHI", "DOEPHI^JANE", NAME_AS_ID),
    ({"research_id": "crl[0-9]+"}, "crlab", "phantom", NOT_RESEARCH_ID),
    ({"convention": "datman"}, "SPINS_CMH_DOEPHI_01_02", "DOEPHI^JANE", NAME_AS_ID),
])
def test_an_id_not_declared_a_research_id_or_holding_the_name_becomes_a_keyed_pseudonym(
        settings, patient_id, patient_name, note):
    rule = subject_rule(settings)
    subject, _, why = rule.ids(patient_id, patient_name, "a/b")
    if note is None:
        assert (subject, why) == (patient_id, None)
    else:
        assert (subject, why) == (_keyed(rule.pattern.search(patient_id)["subject"])
                                  if rule.pattern else _keyed(patient_id), note)


def test_a_visit_holding_the_name_becomes_a_pseudonym_too():
    rule = subject_rule({"pattern": r"^(?P<subject>S\d+)_(?P<visit>\w+)$"})
    assert rule.ids("S01_doephi", "DOEPHI^JANE", "") == (
        "S01", f"visit-{_keyed('doephi')[:12]}", None)


def test_a_name_that_does_not_follow_the_convention_is_an_error():
    with pytest.raises(ValueError, match="PatientID does not match the subject pattern"):
        subject_rule({"convention": "datman"}).ids("SPINS_CMH_PHA_FBN0013", "", "")


def test_pseudonyms_are_hmac_sha256_with_the_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("SITE_SECRET", "s3cret")
    rule = subject_rule({"convention": "datman", "pseudonym": True, "secret_env": "SITE_SECRET"})
    expected = hmac.new(b"s3cret", b"SPINS_CMH_0001", hashlib.sha256).hexdigest()[:16]
    assert rule.ids("SPINS_CMH_0001_01_02", "", "") == (expected, "01", None)
    assert pseudonym("crlab", b"s3cret") == hmac.new(b"s3cret", b"crlab",
                                                     hashlib.sha256).hexdigest()[:16]


def test_there_is_no_unkeyed_pseudonym():
    for function in (pseudonym, study_visit, serial_number):
        with pytest.raises(ValueError, match="a pseudonym needs the deployment secret"):
            function("123-45-6789", b"")


@pytest.mark.parametrize(("settings", "key", "message"), [
    ({"pseudonym": True, "secret_env": "MBID_TEST_UNSET_SECRET"}, "subject.secret_env",
     "MBID_TEST_UNSET_SECRET"),
    ({"source": "AccessionNumber"}, "subject.source", "is not one of"),
    ({"pattern": "(?P<who>x)"}, "subject.pattern", "(?P<subject>...)"),
    ({"research_id": "(unclosed"}, "subject.research_id", "bad regular expression"),
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
    ("Jane Doephi", "DOEPHI^JANE", True), ("janedoephi", "DOEPHI^JANE", True),
    ("DOEPHI_01", "DOEPHI^JANE", True), ("Janephi", "DOEPHI^JANE", False),
    ("MR123", "DOEPHI^JANE^^MR", False),
])
def test_a_subject_id_that_holds_the_patient_name_is_detected(subject, name, carries):
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


@pytest.mark.parametrize(("value", "parsed"), [
    ("20220711", date(2022, 7, 11)), (" 19910101 ", date(1991, 1, 1)),
    ("2022.07.11", date(2022, 7, 11)), ("2022-07-11", date(2022, 7, 11)),
    (datetime(2022, 7, 11, 10, 30), date(2022, 7, 11)), ("20221345", None), ("00000000", None),
    ("2022071", None), ("abc", None), ("", None), (None, None),
])
def test_a_dicom_date_is_read_by_pydicom_s_da(value, parsed):
    result = parse_date(value)
    assert (result, type(result)) == (parsed, type(parsed))


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
    assert serial_number("67093 ", b"k") == "sn-" + hmac.new(b"k", b"67093",
                                                             hashlib.sha256).hexdigest()[:12]
    assert serial_number("", b"k") == ""


def test_an_image_s_scanner_columns_come_from_its_header_identity():
    identity = {"Manufacturer": "SIEMENS ", "ManufacturerModelName": " TrioTim ",
                "DeviceSerialNumber": "35177", "PatientSex": "F"}
    assert scanner_values(identity, b"k") == {
        "manufacturer": "Siemens", "model": "TrioTim",
        "serial": "sn-" + hmac.new(b"k", b"35177", hashlib.sha256).hexdigest()[:12]}
