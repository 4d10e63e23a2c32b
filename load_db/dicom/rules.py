"""Series types from rules kept as data (YAML), tried in order; the first that matches decides.

A rules file may hold three keys:

- `rules`: a list of rules. Each has a `name`, either a `type` (T1, DWI, rsfMRI, FieldMap) or an
  `ignore` reason (which may quote facts, e.g. "not an image: {SOPClassName}"), and conditions:
  `when` (a mapping of fact -> test, all must hold) and/or `any` (a list of such mappings, one
  must hold). A test is a mapping with one of `regex`, `not_regex` (case-insensitive search),
  `in`, `not_in`, `equals`, `above`, `at_most`, `is`; a bare value means `equals`, a bare list
  `in`. On a fact holding a list, `regex` searches the values joined by a backslash, `in` and
  `above` hold when any value does.
- `tags`: DATMAN-style study tags, tried before every rule: tag name -> `type` or `ignore`,
  `SeriesDescription` (a regex or a list of them), optional `ImageType` (a regex) and
  `EchoNumber`, and for quality control `count` (series expected per visit, a whole number,
  default 1) and `qc_kind` (how its images are reviewed, e.g. anat, dti, func). When several
  tags match the description, ImageType then EchoNumber decide; a series still ambiguous is
  left untagged (and to the rules).
- `sites`: site name -> {tags: ...}: a site's own tags, replacing the file's tags of the same
  name for the series of that site (the site comes from the naming convention).
- `subject`: where subject ids come from (see load_db/dicom/identity.py).
- `drift`: how headers are compared with a tag's gold standard: `ignore` (a list of fields)
  and `tolerances` (field -> the absolute difference still accepted, e.g. EchoTime: 0.005).

A dataset's file is tried before the default one shipped in load_db/dicom/rules/default.yaml.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.models.enums import ImageType
from load_db.engine import LoadError

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.yaml"
IMAGE_TYPES = {member.value for member in ImageType}
NO_RULE = "no rule matched"
FILE_KEYS = {"rules", "tags", "sites", "subject", "drift"}
DRIFT_KEYS = {"ignore", "tolerances"}
RULE_KEYS = {"name", "type", "ignore", "when", "any"}
TAG_KEYS = {"type", "ignore", "SeriesDescription", "ImageType", "EchoNumber", "count", "qc_kind"}
SITE_KEYS = {"tags"}
NO_TAG = "no tag matched"
SEVERAL_TAGS = "several tags matched"
TESTS = {"regex", "not_regex", "in", "not_in", "equals", "above", "at_most", "is"}

Facts = dict[str, Any]
Test = Callable[[Facts], bool]


class RulesError(LoadError):
    """A rules file that cannot be used: names the file and the key at fault."""

    def __init__(self, message: str, *, file: str | Path, key: str) -> None:
        self.key = key
        super().__init__(message, file=file, column=key)

    def __str__(self) -> str:
        return f"{self.file}, key {self.key!r}: {self.message}"


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
    """Study tags (per site), rules in the order they are tried, and the subject settings."""

    rules: list[Rule] = field(default_factory=list)
    subject: dict[str, Any] = field(default_factory=dict)
    # The file whose `subject` settings apply (to name it in an error).
    subject_file: Path = DEFAULT_RULES
    # The study's tags, tried before every rule, and each site's own tags by name.
    tags: dict[str, SiteTag] = field(default_factory=dict)
    site_tags: dict[str, dict[str, SiteTag]] = field(default_factory=dict)
    # Header drift settings: {"ignore": [field, ...], "tolerances": {field: number}}.
    drift: dict[str, Any] = field(default_factory=dict)

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


def _compile_conditions(conditions: Any, where: str, file: Path) -> Test:
    """All of a mapping's fact tests must hold."""
    if not isinstance(conditions, dict) or not conditions:
        raise RulesError("expected a mapping of fact -> test", file=file, key=where)
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


def _outcome(entry: dict[str, Any], where: str, file: Path) -> tuple[str | None, str | None]:
    kind, reason = entry.get("type"), entry.get("ignore")
    if (kind is None) == (reason is None):
        raise RulesError("give exactly one of 'type' and 'ignore'", file=file, key=where)
    if kind is not None and kind not in IMAGE_TYPES:
        raise RulesError(f"{kind!r} is not one of {', '.join(sorted(IMAGE_TYPES))}", file=file,
                         key=f"{where}.type")
    if reason is True:
        reason = "ignored by site tag"
    return kind, (str(reason) if reason is not None else None)


def _compile_rule(entry: Any, where: str, file: Path) -> Rule:
    if not isinstance(entry, dict):
        raise RulesError("a rule is a mapping", file=file, key=where)
    unknown = sorted(set(entry) - RULE_KEYS)
    if unknown:
        raise RulesError(f"unknown key (allowed: {', '.join(sorted(RULE_KEYS))})", file=file,
                         key=f"{where}.{unknown[0]}")
    if not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise RulesError("a rule needs a name", file=file, key=f"{where}.name")
    kind, reason = _outcome(entry, where, file)
    tests: list[Test] = []
    if "when" in entry:
        tests.append(_compile_conditions(entry["when"], f"{where}.when", file))
    if "any" in entry:
        options = entry["any"]
        if not isinstance(options, list) or not options:
            raise RulesError("'any' takes a list of mappings", file=file, key=f"{where}.any")
        alternatives = [_compile_conditions(option, f"{where}.any[{i}]", file)
                        for i, option in enumerate(options)]
        tests.append(lambda facts: any(test(facts) for test in alternatives))
    return Rule(entry["name"], kind, reason,
                lambda facts: all(test(facts) for test in tests))


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


def _compile_tags(tags: Any, file: Path, prefix: str = "") -> dict[str, SiteTag]:
    """Check and compile the `tags` mapping of a rules file (`prefix`: where it is in the file)."""
    if not isinstance(tags, dict):
        raise RulesError("'tags' maps a tag name to its pattern", file=file,
                         key=f"{prefix}tags")
    compiled = {}
    for name, spec in tags.items():
        where = f"{prefix}tags.{name}"
        _check_keys(spec, TAG_KEYS, "a tag is a mapping", file, where)
        if "SeriesDescription" not in spec:
            raise RulesError("a tag needs a SeriesDescription pattern", file=file,
                             key=f"{where}.SeriesDescription")
        kind, reason = _outcome(spec, where, file)
        descriptions = _as_list(spec["SeriesDescription"])
        description = _compile_test("regex", "|".join(f"(?:{d})" for d in descriptions),
                                    "SeriesDescription", f"{where}.SeriesDescription", file)
        image_type = (_compile_test("regex", spec["ImageType"], "ImageType",
                                    f"{where}.ImageType", file) if "ImageType" in spec else None)
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise RulesError("'count' is a whole number (0 or more)", file=file,
                             key=f"{where}.count")
        qc_kind = spec.get("qc_kind")
        if qc_kind is not None and (not isinstance(qc_kind, str) or not qc_kind.strip()):
            raise RulesError("'qc_kind' is a word such as anat, dti or func", file=file,
                             key=f"{where}.qc_kind")
        compiled[str(name)] = SiteTag(str(name), kind, reason, description, image_type,
                                      spec.get("EchoNumber"), count, qc_kind)
    return compiled


def _check_keys(spec: Any, allowed: set[str], not_mapping: str, file: Path, where: str) -> None:
    """A mapping holding only `allowed` keys, else an error naming the first unknown one."""
    if not isinstance(spec, dict):
        raise RulesError(not_mapping, file=file, key=where)
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise RulesError(f"unknown key (allowed: {', '.join(sorted(allowed))})", file=file,
                         key=f"{where}.{unknown[0]}")


def _compile_sites(sites: Any, file: Path) -> dict[str, dict[str, SiteTag]]:
    """Check and compile the `sites` mapping: each site's own tags."""
    if not isinstance(sites, dict):
        raise RulesError("'sites' maps a site name to its tags", file=file, key="sites")
    compiled = {}
    for site, spec in sites.items():
        where = f"sites.{site}"
        _check_keys(spec, SITE_KEYS, "a site is a mapping with tags", file, where)
        compiled[str(site)] = _compile_tags(spec.get("tags", {}), file, f"{where}.")
    return compiled


def _check_drift(drift: Any, file: Path) -> dict[str, Any]:
    """Check the `drift` mapping: a list of fields to ignore, non-negative number tolerances."""
    _check_keys(drift, DRIFT_KEYS, "'drift' is a mapping with ignore and tolerances", file,
                "drift")
    ignore = drift.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(name, str) for name in ignore):
        raise RulesError("'ignore' is a list of header fields", file=file, key="drift.ignore")
    tolerances = drift.get("tolerances", {})
    if not isinstance(tolerances, dict):
        raise RulesError("'tolerances' maps a field to a number", file=file,
                         key="drift.tolerances")
    for name, value in tolerances.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise RulesError("a tolerance is a number, 0 or more", file=file,
                             key=f"drift.tolerances.{name}")
    return {"ignore": sorted(ignore), "tolerances": {str(k): v for k, v in tolerances.items()}}


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read the rules file: {exc.strerror}", file=file,
                         key="(file)") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise RulesError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file,
                         key=where) from exc
    content = content or {}
    if not isinstance(content, dict):
        raise RulesError("a rules file is a mapping with rules, tags or subject", file=file,
                         key="(top)")
    unknown = sorted(set(content) - FILE_KEYS)
    if unknown:
        raise RulesError(f"unknown key (allowed: {', '.join(sorted(FILE_KEYS))})", file=file,
                         key=unknown[0])
    return content


def load_rules(extra: Path | None = None, *, default: Path = DEFAULT_RULES) -> RuleSet:
    """Read the default rules and, tried first, a dataset's or site's rules file."""
    rule_set = RuleSet()
    for file in (path for path in (extra, default) if path is not None):
        content = _read_yaml(file)
        # The first file's tags win over a later file's of the same name.
        if "tags" in content:
            rule_set.tags = {**_compile_tags(content["tags"], file), **rule_set.tags}
        for site, tags in _compile_sites(content.get("sites", {}), file).items():
            rule_set.site_tags[site] = {**tags, **rule_set.site_tags.get(site, {})}
        entries = content.get("rules", [])
        if not isinstance(entries, list):
            raise RulesError("'rules' is a list", file=file, key="rules")
        rule_set.rules.extend(_compile_rule(entry, f"rules[{i}]", file)
                              for i, entry in enumerate(entries))
        if "drift" in content and not rule_set.drift:
            rule_set.drift = _check_drift(content["drift"], file)
        subject = content.get("subject", {})
        if not isinstance(subject, dict):
            raise RulesError("'subject' is a mapping", file=file, key="subject")
        if subject and not rule_set.subject:
            rule_set.subject_file = file
        rule_set.subject = {**subject, **rule_set.subject}  # the first file wins
    return rule_set
