"""Series types from rules kept as data, tried in order; the first that matches decides.

The study file's `rules` and `tags` (checked by the study model, load_db/study/model.py, which
describes the file) are compiled here into tests of a series' facts. A test is a mapping with
one of `regex`, `not_regex` (case-insensitive search), `in`, `not_in`, `equals`, `above`,
`at_most`, `is`; a bare value means `equals`, a bare list `in`. On a fact holding a list,
`regex` searches the values joined by a backslash, `in` and `above` hold when any value does.
A rule's `ignore` reason may quote facts, e.g. "not an image: {SOPClassName}".

Study tags are tried before every rule: when several tags match the description, ImageType then
EchoNumber decide; a series still ambiguous is left untagged (and to the rules). A site's tags
replace the study's tags of the same name for the series of that site.

A dataset's file is tried before the default one shipped in load_db/dicom/rules/default.yaml.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_db.study import RulesError, SourcedRule, Study, Subject, Tag, load_study

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.yaml"
NO_RULE = "no rule matched"
NO_TAG = "no tag matched"
SEVERAL_TAGS = "several tags matched"
TESTS = {"regex", "not_regex", "in", "not_in", "equals", "above", "at_most", "is"}

Facts = dict[str, Any]
Test = Callable[[Facts], bool]


@dataclass(frozen=True)
class Decision:
    """What the rules decided for a series: its type (None: not stored), the rule, the reason."""

    type: str | None
    rule: str
    reason: str | None = None


@dataclass(frozen=True)
class Rule:
    """One rule: a name, what it decides, and a test of the facts."""

    name: str
    type: str | None
    ignore: str | None
    test: Test

    def decide(self, facts: Facts) -> Decision | None:
        if not self.test(facts):
            return None
        if self.type is not None:
            return Decision(self.type, self.name)
        return Decision(None, self.name, _fill(self.ignore or self.name, facts))


@dataclass
class RuleSet:
    """A study's tags (per site) and rules compiled into tests, tried in order, and the study
    they come from (its subject and drift settings, its expected counts)."""

    study: Study = field(default_factory=Study)
    rules: list[Rule] = field(default_factory=list)
    # The study's tags, tried before every rule, and each site's own tags by name.
    tags: dict[str, SiteTag] = field(default_factory=dict)
    site_tags: dict[str, dict[str, SiteTag]] = field(default_factory=dict)

    @property
    def subject(self) -> Subject:
        """Where the study's subject ids come from."""
        return self.study.subject

    @property
    def subject_file(self) -> Path:
        """The file whose subject settings apply (to name it in an error)."""
        return self.study.subject_file or DEFAULT_RULES

    def tags_for(self, site: str | None = None) -> SiteTags:
        """The tags that apply to a series of `site`: the study's, with the site's replacing."""
        return SiteTags(tuple({**self.tags, **self.site_tags.get(site or "", {})}.values()))

    def tag(self, facts: Facts, site: str | None = None) -> tuple[SiteTag | None, str | None]:
        """The study tag of a series, or None with the reason (no tag or several matched)."""
        return self.tags_for(site).classify(facts)

    def decide(self, facts: Facts, site: str | None = None) -> Decision:
        """Return the decision of the series' tag, else of the first matching rule (or 'no rule
        matched')."""
        decision = self.tags_for(site).decide(facts)
        if decision is not None:
            return decision
        for rule in self.rules:
            decision = rule.decide(facts)
            if decision is not None:
                return decision
        return Decision(None, "none", NO_RULE)


def _fill(reason: str, facts: Facts) -> str:
    """Put facts into a reason: {SOPClassName} -> 'Enhanced SR Storage'; lists joined by '\\'."""
    def value(match: re.Match[str]) -> str:
        found = facts.get(match.group(1))
        if isinstance(found, list):
            return "\\".join(str(item) for item in found)
        return "" if found is None else str(found)
    return re.sub(r"\{(\w+)\}", value, reason)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "\\".join(str(item) for item in value)
    return "" if value is None else str(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip().upper() == str(b).strip().upper()
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def _numbers(value: Any) -> list[float]:
    out = []
    for item in _as_list(value):
        try:
            out.append(float(item))
        except (TypeError, ValueError):
            continue
    return out


def _compile_test(kind: str, expected: Any, fact: str, where: str, file: Path) -> Test:
    if kind in ("regex", "not_regex"):
        try:
            pattern = re.compile(str(expected), re.IGNORECASE)
        except re.error as exc:
            raise RulesError(f"bad regular expression: {exc}", file=file, key=where) from exc
        if kind == "regex":
            return lambda facts: bool(pattern.search(_as_text(facts.get(fact))))
        return lambda facts: not pattern.search(_as_text(facts.get(fact)))
    if kind in ("in", "not_in"):
        if not isinstance(expected, list):
            raise RulesError(f"'{kind}' takes a list", file=file, key=where)
        def member(facts: Facts) -> bool:
            return any(_same(value, option) for value in _as_list(facts.get(fact))
                       for option in expected)
        return member if kind == "in" else (lambda facts: not member(facts))
    if kind == "equals":
        return lambda facts: any(_same(value, expected) for value in _as_list(facts.get(fact)))
    if kind in ("above", "at_most"):
        if not isinstance(expected, int | float) or isinstance(expected, bool):
            raise RulesError(f"'{kind}' takes a number", file=file, key=where)
        if kind == "above":
            return lambda facts: any(value > expected for value in _numbers(facts.get(fact)))
        return lambda facts: bool(_numbers(facts.get(fact))) and all(
            value <= expected for value in _numbers(facts.get(fact)))
    if not isinstance(expected, bool):
        raise RulesError("'is' takes true or false", file=file, key=where)
    return lambda facts: bool(facts.get(fact)) is expected


def _compile_conditions(conditions: dict[str, Any], where: str, file: Path) -> Test:
    """All of a mapping's fact tests must hold (the study model checked it is a mapping)."""
    tests: list[Test] = []
    for fact, spec in conditions.items():
        key = f"{where}.{fact}"
        if isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in TESTS:
                raise RulesError(f"a test is one of {', '.join(sorted(TESTS))}", file=file,
                                 key=key)
            kind, expected = next(iter(spec.items()))
            tests.append(_compile_test(kind, expected, fact, f"{key}.{kind}", file))
        elif isinstance(spec, list):
            tests.append(_compile_test("in", spec, fact, key, file))
        else:
            tests.append(_compile_test("equals", spec, fact, key, file))
    return lambda facts: all(test(facts) for test in tests)


@dataclass(frozen=True)
class SiteTag:
    """One DATMAN-style tag: a description pattern, perhaps an ImageType and an echo."""

    name: str
    type: str | None
    ignore: str | None
    description: Test
    image_type: Test | None
    echo: Any
    count: int = 1
    qc_kind: str | None = None

    def fits_image_type(self, facts: Facts) -> bool:
        return self.image_type is None or self.image_type(facts)

    def fits_echo(self, facts: Facts) -> bool:
        return self.echo is None or _same(facts.get("EchoNumbers"), self.echo)


@dataclass(frozen=True)
class SiteTags:
    """A site's tags, tried together before every rule (as DATMAN matches a series)."""

    tags: tuple[SiteTag, ...]

    def classify(self, facts: Facts) -> tuple[SiteTag | None, str | None]:
        """The one tag that fits the series, or None and why (no tag, or several, matched).

        Tags are matched on the description; when several match, ImageType and then
        EchoNumber decide; a series still ambiguous is left untagged.
        """
        matches = [tag for tag in self.tags if tag.description(facts)]
        for fits in (SiteTag.fits_image_type, SiteTag.fits_echo):
            if len(matches) > 1:
                matches = [tag for tag in matches if fits(tag, facts)] or matches
        if len(matches) > 1:
            return None, f"{SEVERAL_TAGS}: {', '.join(tag.name for tag in matches)}"
        if not matches or not (matches[0].fits_image_type(facts)
                               and matches[0].fits_echo(facts)):
            return None, NO_TAG
        return matches[0], None

    def decide(self, facts: Facts) -> Decision | None:
        """The decision of the one tag that fits the series, or None (left to the rules)."""
        tag, _reason = self.classify(facts)
        if tag is None:
            return None
        if tag.type is not None:
            return Decision(tag.type, f"tag:{tag.name}")
        return Decision(None, f"tag:{tag.name}", _fill(tag.ignore or tag.name, facts))


def _compile_rule(sourced: SourcedRule) -> Rule:
    rule, file, where = sourced.rule, sourced.file, sourced.key
    tests: list[Test] = []
    if rule.when is not None:
        tests.append(_compile_conditions(rule.when, f"{where}.when", file))
    if rule.any is not None:
        alternatives = [_compile_conditions(option, f"{where}.any[{i}]", file)
                        for i, option in enumerate(rule.any)]
        tests.append(lambda facts: any(test(facts) for test in alternatives))
    return Rule(rule.name, rule.type, rule.reason,
                lambda facts: all(test(facts) for test in tests))


def _search(pattern: str, fact: str) -> Test:
    """A case-insensitive search of a fact (a pattern the study model has checked)."""
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda facts: bool(compiled.search(_as_text(facts.get(fact))))


def _compile_tags(tags: dict[str, Tag]) -> dict[str, SiteTag]:
    """The study model's tags as tests: any of the descriptions, perhaps an ImageType."""
    return {name: SiteTag(name, tag.type, tag.reason,
                          _search("|".join(f"(?:{d})" for d in tag.descriptions),
                                  "SeriesDescription"),
                          None if tag.ImageType is None else _search(tag.ImageType, "ImageType"),
                          tag.EchoNumber, tag.count, tag.qc_kind)
            for name, tag in tags.items()}


def compile_study(study: Study) -> RuleSet:
    """The rule set of a study: its rules' conditions and its tags compiled into tests.

    Raises RulesError naming the file and key of a condition the rule language rejects.
    """
    return RuleSet(study, [_compile_rule(rule) for rule in study.rules],
                   _compile_tags(study.tags),
                   {site: _compile_tags(tags) for site, tags in study.site_tags.items()})


def load_rules(extra: Path | None = None, *, default: Path = DEFAULT_RULES) -> RuleSet:
    """Read the default rules and, tried first, a dataset's or site's study file."""
    return compile_study(load_study(extra, default))
