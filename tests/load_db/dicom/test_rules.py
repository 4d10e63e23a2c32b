"""Series types from rules as data: the default rule set, site tags, and bad rules files."""
from __future__ import annotations

from pathlib import Path

import pytest

from load_db.dicom.identity import subject_rule
from load_db.dicom.rules import Decision, load_rules
from load_db.study import RulesError

MR = "1.2.840.10008.5.1.4.1.1.4"


def facts(**values) -> dict:
    """The facts of a plain 2D MR series, overridden by `values`."""
    return {"SOPClassUID": MR, "SOPClassName": "MR Image Storage", "Modality": "MR",
            "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"], "SeriesDescription": "",
            "ProtocolName": "", "MRAcquisitionType": "2D", "Volumes": 1, "EPI": False,
            "SpinEcho": False, "GradientEcho": False, "InversionPrepared": False, **values,
            "Name": f"{values.get('SeriesDescription', '')} | {values.get('ProtocolName', '')}"}


EPI_TIME_SERIES = {"EPI": True, "GradientEcho": True, "Volumes": 200}
T1_EVIDENCE = {"MRAcquisitionType": "3D", "InversionPrepared": True, "GradientEcho": True}


@pytest.mark.parametrize(("series", "decision"), [
    (facts(SOPClassUID="1.2.840.10008.5.1.4.1.1.88.22", SOPClassName="Enhanced SR Storage"),
     Decision(None, "structured report", "structured report, not an image")),
    (facts(SOPClassUID="1.2.840.10008.5.1.4.1.1.7", SOPClassName="Secondary Capture Image "
           "Storage"),
     Decision(None, "non-image SOP class", "not an MR image: Secondary Capture Image Storage")),
    (facts(ImageType=["DERIVED", "PRIMARY", "DIFFUSION", "ADC"], BValues=[0, 1000]),
     Decision(None, "derived image", "DERIVED image (DERIVED\\PRIMARY\\DIFFUSION\\ADC)")),
    (facts(BValues=[0.0, 1000.0], SeriesDescription="whatever"),
     Decision("DWI", "diffusion b-values")),
    (facts(BValues=[0.0, 50.0], SeriesDescription="b50 test", SpinEcho=True, EPI=True),
     Decision(None, "low b-values only",
              "diffusion-like series without a b-value above 50 (0.0\\50.0)")),
    (facts(SeriesDescription="pcasl_ep2d", **EPI_TIME_SERIES),
     Decision(None, "arterial spin labelling", "ASL, not stored")),
    (facts(SeriesDescription="gre_field_mapping"), Decision("FieldMap", "field-map evidence")),
    (facts(SeriesDescription="B0 phase", SequenceName="*fm2d2r"),
     Decision("FieldMap", "field-map evidence")),
    (facts(FrameType=["ORIGINAL", "PRIMARY", "FIELD_MAP", "NONE"]),
     Decision("FieldMap", "field-map evidence")),
    (facts(SeriesDescription="SpinEchoFieldMap_PA", EPI=True, SpinEcho=True),
     Decision("FieldMap", "field-map evidence")),
    (facts(SeriesDescription="se_epi_AP", EPI=True, SpinEcho=True, Volumes=1),
     Decision("FieldMap", "spin-echo EPI pair (AP/PA)")),
    (facts(SeriesDescription="se_epi_AP", EPI=True, SpinEcho=True, Volumes=3),
     Decision(None, "other EPI series",
              "EPI series of 3 volumes: not diffusion, field map or resting state")),
    (facts(SeriesDescription="rfMRI_REST_AP", **EPI_TIME_SERIES),
     Decision("rsfMRI", "resting-state EPI time series")),
    (facts(SeriesDescription="bold", ProtocolName="resting state fcMRI", **EPI_TIME_SERIES),
     Decision("rsfMRI", "resting-state EPI time series")),
    (facts(SeriesDescription="tfMRI_WM_AP", **EPI_TIME_SERIES),
     Decision(None, "task EPI time series", "task fMRI: name says no rest")),
    (facts(SeriesDescription="rest but one volume", EPI=True, GradientEcho=True),
     Decision(None, "single EPI volume",
              "single EPI volume (a reference, or a spin-echo EPI without its pair)")),
    (facts(SeriesDescription="MPRAGE", **T1_EVIDENCE),
     Decision("T1", "3D inversion-prepared gradient echo")),
    (facts(SeriesDescription="anat", SequenceName="*tfl3d1_16ns", **T1_EVIDENCE),
     Decision("T1", "3D inversion-prepared gradient echo")),
    (facts(SeriesDescription="T1 but 2D", InversionPrepared=True, GradientEcho=True),
     Decision(None, "T1 not 3D inversion-prepared",
              "T1-weighted but not a 3D inversion-prepared gradient echo, not stored")),
    # Every series the rules leave gets a reason of its own (none is "no rule matched").
    (facts(SeriesDescription="localizer"), Decision(None, "localizer", "localizer or scout")),
    (facts(SeriesDescription="AAHead_Scout", ImageType=["ORIGINAL", "PRIMARY", "M", "ND"]),
     Decision(None, "localizer", "localizer or scout")),
    (facts(ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]),
     Decision(None, "localizer", "localizer or scout")),
    (facts(SeriesDescription="AX FLAIR"), Decision(None, "FLAIR", "FLAIR, not stored")),
    (facts(SeriesDescription="t2_tse_tra"), Decision(None, "T2-weighted",
                                                     "T2-weighted, not stored")),
    (facts(SeriesDescription="Ax SWAN"), Decision(
        None, "susceptibility-weighted", "susceptibility-weighted or T2*, not stored")),
    (facts(SeriesDescription="tof_3d_multi-slab"), Decision(None, "angiography",
                                                            "angiography, not stored")),
    (facts(SeriesDescription="PD_tse"), Decision(None, "T2-weighted",
                                                 "T2-weighted, not stored")),
    (facts(SeriesDescription="Ax PD"), Decision(None, "proton density",
                                                "proton-density weighted, not stored")),
    (facts(SeriesDescription="whatever", ScanningSequence=["SE", "IR"]),
     Decision(None, "unrecognised series",
              "unrecognised series (scanning sequence SE\\IR), not stored")),
])
def test_default_rules(series, decision):
    assert load_rules().decide(series) == decision


SITE = """
tags:
  T1:
    type: T1
    SeriesDescription: ["t1w", "bravo"]
  RST:
    type: rsfMRI
    SeriesDescription: "fmri"
    ImageType: "ORIGINAL"
  RST_DERIVED:
    ignore: "site: derived resting state"
    SeriesDescription: "fmri"
    ImageType: "DERIVED"
  FMAP1:
    type: FieldMap
    SeriesDescription: "fieldmap"
    EchoNumber: 1
  FMAP2:
    ignore: true
    SeriesDescription: "fieldmap"
    EchoNumber: 2
rules:
  - name: site localizer
    ignore: "localizer ({SeriesDescription})"
    when:
      SeriesDescription: {regex: "^loc"}
"""


@pytest.fixture
def site_rules(tmp_path: Path):
    (tmp_path / "site.yaml").write_text(SITE)
    return load_rules(tmp_path / "site.yaml")


@pytest.mark.parametrize(("series", "decision"), [
    # Site tags come first: a 2D "T1w" the defaults would not store is a T1 here.
    (facts(SeriesDescription="Sag T1W"), Decision("T1", "tag:T1")),
    (facts(SeriesDescription="BRAVO 3D"), Decision("T1", "tag:T1")),
    (facts(SeriesDescription="fMRI rest"), Decision("rsfMRI", "tag:RST")),
    (facts(SeriesDescription="fMRI rest", ImageType=["DERIVED", "SECONDARY"]),
     Decision(None, "tag:RST_DERIVED", "site: derived resting state")),
    (facts(SeriesDescription="fieldmap", EchoNumbers=1), Decision("FieldMap", "tag:FMAP1")),
    (facts(SeriesDescription="fieldmap", EchoNumbers=2),
     Decision(None, "tag:FMAP2", "ignored by site tag")),
    # Ambiguous (no echo to decide): left to the rules, then the defaults.
    (facts(SeriesDescription="fieldmap"), Decision("FieldMap", "field-map evidence")),
    (facts(SeriesDescription="localizer"),
     Decision(None, "site localizer", "localizer (localizer)")),
    (facts(BValues=[1000]), Decision("DWI", "diffusion b-values")),
])
def test_site_tags_and_rules_are_tried_before_the_defaults(site_rules, series, decision):
    assert site_rules.decide(series) == decision


@pytest.mark.parametrize(("text", "key", "message"), [
    ("rule: []", "rule", "unknown key"),
    ("rules: {}", "rules", "'rules' is a list"),
    ("rules:\n  - name: a\n    type: T2\n    when: {Modality: MR}", "rules[0].type",
     "'T2' is not one of"),
    ("rules:\n  - name: a\n    type: T1\n    ignore: x", "rules[0]", "exactly one of"),
    ("rules:\n  - type: T1", "rules[0].name", "needs a name"),
    ("rules:\n  - name: a\n    type: T1\n    wen: {}", "rules[0].wen", "unknown key"),
    ("rules:\n  - name: a\n    type: T1\n    when: {Name: {like: x}}", "rules[0].when.Name",
     "a test is one of"),
    ("rules:\n  - name: a\n    type: T1\n    when: {Name: {regex: '('}}",
     "rules[0].when.Name.regex", "bad regular expression"),
    ("rules:\n  - name: a\n    type: T1\n    when: {Volumes: {above: many}}",
     "rules[0].when.Volumes.above", "takes a number"),
    ("rules:\n  - name: a\n    type: T1\n    any: {Name: x}", "rules[0].any", "takes a list"),
    ("tags:\n  T1: {type: T1}", "tags.T1.SeriesDescription", "needs a SeriesDescription"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, Echo: 1}", "tags.T1.Echo", "unknown key"),
    ("rules: [\n", "line 2", "not valid YAML"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, count: 1.5}", "tags.T1.count",
     "whole number"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, count: two}", "tags.T1.count",
     "whole number"),
    ("tags:\n  T1: {type: T1, SeriesDescription: '(t1'}", "tags.T1.SeriesDescription",
     "bad regular expression"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, qc_kind: 3}", "tags.T1.qc_kind",
     "a word"),
    ("sites:\n  CMH: {tag: {}}", "sites.CMH.tag", "unknown key"),
    ("drift:\n  tolerances: {EchoTime: -1}", "drift.tolerances.EchoTime", "0 or more"),
    ("drift:\n  ignore: EchoTime", "drift.ignore", "a list of header fields"),
    ("drift:\n  tolerance: {}", "drift.tolerance", "unknown key"),
    ("sites:\n  CMH:\n    tags:\n      T1: {type: T1, SeriesDescription: t1, Count: 1}",
     "sites.CMH.tags.T1.Count", "unknown key"),
])
def test_a_bad_rules_file_is_an_error_naming_the_file_and_the_key(tmp_path, text, key,
                                                                   message):
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    with pytest.raises(RulesError) as error:
        load_rules(file)
    assert (error.value.file, error.value.column) == (file, key)
    assert message in error.value.message


def test_the_default_rules_file_is_valid_and_ordered():
    names = [rule.name for rule in load_rules().rules]
    assert names == ["structured report", "non-image SOP class", "derived image",
                     "diffusion b-values", "arterial spin labelling", "field-map evidence",
                     "spin-echo EPI pair (AP/PA)", "resting-state EPI time series",
                     "task EPI time series", "3D inversion-prepared gradient echo",
                     "localizer", "low b-values only", "single EPI volume", "other EPI series",
                     "FLAIR", "susceptibility-weighted", "angiography", "T2-weighted",
                     "proton density", "T1 not 3D inversion-prepared", "unrecognised series"]


def test_bad_subject_settings_in_a_rules_file_name_that_file(tmp_path):
    file = tmp_path / "site.yaml"
    file.write_text("subject:\n  source: AccessionNumber\n")
    with pytest.raises(RulesError) as error:
        load_rules(file)
    assert str(error.value) == (f"{file}, key 'subject.source': 'AccessionNumber' is not one of "
                                "PatientID, PatientName, path")


def test_subject_settings_merge_key_by_key_and_name_the_study_s_file(tmp_path, monkeypatch):
    file = tmp_path / "site.yaml"
    file.write_text("subject:\n  convention: datman\n  secret_env: MBID_TEST_UNSET_SECRET\n")
    rules = load_rules(file)
    assert (rules.subject.source, rules.subject.convention, rules.subject_file) == (
        "PatientID", "datman", file)
    with pytest.raises(RulesError) as error:
        subject_rule(rules.subject, rules.subject_file)
    assert str(error.value) == (f"{file}, key 'subject.secret_env': pseudonyms need a secret in "
                                "the environment variable MBID_TEST_UNSET_SECRET")
    monkeypatch.setenv("MBID_TEST_UNSET_SECRET", "s3cret")
    assert subject_rule(rules.subject, rules.subject_file).ids(
        "SPINS_CMH_0001_01_02", "", "") == ("SPINS_CMH_0001", "01", None)


STUDY = """\
tags:
  T1:  {type: T1, SeriesDescription: t1w, count: 1, qc_kind: anat}
  DTI: {type: DWI, SeriesDescription: dti, count: 1}
sites:
  ZHH:
    tags:
      DTI: {type: DWI, SeriesDescription: [dti, diff], count: 2}
      T2: {ignore: not stored, SeriesDescription: t2w}
"""


def test_a_site_s_tags_replace_the_study_s_for_its_series_only(tmp_path):
    (tmp_path / "study.yaml").write_text(STUDY)
    study = load_rules(tmp_path / "study.yaml")
    diff = facts(SeriesDescription="diff 64")
    assert (study.tag(diff)[1], study.tag(diff, "ZHH")[0].count) == ("no tag matched", 2)
    assert study.tag(facts(SeriesDescription="t1w"), "ZHH")[0].qc_kind == "anat"
    assert study.decide(facts(SeriesDescription="T2w"), "ZHH") == Decision(
        None, "tag:T2", "not stored")
    assert study.tag(facts(SeriesDescription="t1w dti"))[1] == "several tags matched: T1, DTI"
