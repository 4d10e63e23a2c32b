"""The study model: one file checked with errors naming the file and key, several merged."""
from __future__ import annotations

from pathlib import Path

import pytest

from load_db.study import Drift, RulesError, Subject, load_study

TAG_KEYS = "EchoNumber, ImageType, SeriesDescription, count, ignore, qc_kind, type"


@pytest.mark.parametrize(("text", "key", "message"), [
    ("rule: []", "rule", "unknown key (allowed: drift, rules, sites, subject, tags)"),
    ("[1, 2]", "(top)", "a rules file is a mapping with rules, tags or subject"),
    ("rules: [\n", "line 2",
     "not valid YAML: expected the node content, but found '<stream end>'"),
    ("rules: [3]", "rules[0]", "a rule is a mapping"),
    ("rules:\n  - name: a\n    type: T2", "rules[0].type",
     "'T2' is not one of DWI, FieldMap, Mammogram, T1, rsfMRI"),
    ("rules:\n  - name: a", "rules[0]", "give exactly one of 'type' and 'ignore'"),
    ("rules:\n  - name: ' '\n    type: T1", "rules[0].name", "a rule needs a name"),
    ("rules:\n  - name: a\n    type: T1\n    when: {}", "rules[0].when",
     "expected a mapping of fact -> test"),
    ("rules:\n  - name: a\n    type: T1\n    any: [3]", "rules[0].any[0]",
     "expected a mapping of fact -> test"),
    ("tags:\n  T1: 5", "tags.T1", "a tag is a mapping"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, Echo: 1}", "tags.T1.Echo",
     f"unknown key (allowed: {TAG_KEYS})"),
    ("tags:\n  T1: {ignore: 5, SeriesDescription: a}", "tags.T1.ignore",
     "'ignore' is a reason (text), or true"),
    ("tags:\n  T1: {type: T1, SeriesDescription: [t1, '(']}", "tags.T1.SeriesDescription",
     "bad regular expression: missing ), unterminated subpattern at position 0"),
    ("tags:\n  7: {type: T1, SeriesDescription: t1, ImageType: '['}", "tags.7.ImageType",
     "bad regular expression: unterminated character set at position 0"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, count: true}", "tags.T1.count",
     "'count' is a whole number (0 or more)"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, count: -1}", "tags.T1.count",
     "'count' is a whole number (0 or more)"),
    ("tags:\n  T1: {type: T1, SeriesDescription: t1, qc_kind: ' '}", "tags.T1.qc_kind",
     "'qc_kind' is a word such as anat, dti or func"),
    ("sites:\n  CMH: 3", "sites.CMH", "a site is a mapping with tags"),
    ("sites:\n  CMH:\n    tags:\n      T1: {type: T1, SeriesDescription: t1, Count: 1}",
     "sites.CMH.tags.T1.Count", f"unknown key (allowed: {TAG_KEYS})"),
    ("drift: 3", "drift", "'drift' is a mapping with ignore and tolerances"),
    ("drift:\n  ignore: [1]", "drift.ignore[0]", "'ignore' is a list of header fields"),
    ("drift:\n  tolerances: {EchoTime: true}", "drift.tolerances.EchoTime",
     "a tolerance is a number, 0 or more"),
    ("drift:\n  tolerances: 3", "drift.tolerances", "'tolerances' maps a field to a number"),
    ("subject: 3", "subject", "'subject' is a mapping"),
    ("subject:\n  source: AccessionNumber", "subject.source",
     "'AccessionNumber' is not one of PatientID, PatientName, path"),
    ("subject:\n  convention: bids", "subject.convention", "unknown convention (known: datman)"),
    ("subject:\n  pattern: '(?P<who>x)'", "subject.pattern",
     "the pattern needs a (?P<subject>...) group"),
    ("subject:\n  pseudonym: maybe", "subject.pseudonym", "'pseudonym' is true or false"),
])
def test_an_error_names_the_file_the_key_and_what_is_expected(tmp_path, text, key, message):
    file = tmp_path / "study.yaml"
    file.write_text(text)
    with pytest.raises(RulesError) as error:
        load_study(file)
    assert str(error.value) == f"{file}, key {key!r}: {message}"
    assert (error.value.file, error.value.column) == (file, key)


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(RulesError) as error:
        load_study(tmp_path / "missing.yaml")
    assert str(error.value) == (f"{tmp_path / 'missing.yaml'}, key '(file)': cannot read the "
                                "rules file: No such file or directory")


STUDY = """\
tags:
  T1: {type: T1, SeriesDescription: [t1w, bravo], count: 2, qc_kind: anat}
  7: {ignore: true, SeriesDescription: scout, count: 0}
sites:
  CMH:
    tags:
      T1: {type: T1, SeriesDescription: mprage}
subject:
  convention: datman
drift:
  ignore: [SeriesTime, AcquisitionTime]
  tolerances: {EchoTime: 0.005}
rules:
  - {name: study localizer, ignore: localizer, when: {SeriesDescription: {regex: ^loc}}}
"""

DEFAULTS = """\
tags:
  T1: {type: T1, SeriesDescription: t1}
  DTI: {type: DWI, SeriesDescription: dti}
sites:
  CMH:
    tags:
      DTI: {type: DWI, SeriesDescription: diff}
subject:
  source: PatientName
  research_id: '[A-Z]+'
drift:
  tolerances: {EchoTime: 1}
rules:
  - {name: default localizer, ignore: localizer, when: {SeriesDescription: loc}}
"""


def test_the_first_file_wins_key_by_key(tmp_path: Path):
    (tmp_path / "study.yaml").write_text(STUDY)
    (tmp_path / "default.yaml").write_text(DEFAULTS)
    study = load_study(tmp_path / "study.yaml", None, tmp_path / "default.yaml")
    assert {name: (tag.descriptions, tag.count, tag.reason) for name, tag in study.tags.items()
            } == {"T1": (["t1w", "bravo"], 2, None), "7": (["scout"], 0, "ignored by site tag"),
                  "DTI": (["dti"], 1, None)}
    assert {name: tag.descriptions for name, tag in study.tags_for("CMH").items()} == {
        "T1": ["mprage"], "7": ["scout"], "DTI": ["diff"]}
    assert [(rule.file.name, rule.key, rule.rule.name) for rule in study.rules] == [
        ("study.yaml", "rules[0]", "study localizer"),
        ("default.yaml", "rules[0]", "default localizer")]
    assert study.subject == Subject(source="PatientName", convention="datman",
                                    research_id="[A-Z]+")
    assert study.subject_file == tmp_path / "study.yaml"
    assert study.drift.settings == {"ignore": ["AcquisitionTime", "SeriesTime"],
                                    "tolerances": {"EchoTime": 0.005}}


def test_a_study_without_settings_has_the_defaults(tmp_path: Path):
    (tmp_path / "empty.yaml").write_text("")
    study = load_study(tmp_path / "empty.yaml")
    assert (study.tags, study.site_tags, study.rules, study.drift, study.subject_file) == (
        {}, {}, [], None, None)
    assert study.subject == Subject(source="PatientID")
    assert Drift().settings == {"ignore": [], "tolerances": {}}


def test_a_convention_names_its_subject_and_phantom_patterns():
    datman = Subject(convention="datman")
    assert datman.subject_pattern.startswith("^(?P<subject>")
    assert datman.phantom_pattern == r"^[a-z0-9]+_(?P<site>[a-z0-9]+)_PHA_[a-z]{3}[0-9]+$"
    assert (Subject(pattern="(?P<subject>x)").subject_pattern, Subject().phantom_pattern) == (
        "(?P<subject>x)", None)
