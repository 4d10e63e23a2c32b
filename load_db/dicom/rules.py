"""Series types from rules kept as data (YAML), tried in order; the first that matches decides.

A rules file may hold three keys:

- `rules`: a list of rules. Each has a `name`, either a `type` (T1, DWI, rsfMRI, FieldMap) or an
  `ignore` reason (which may quote facts, e.g. "not an image: {SOPClassName}"), and conditions:
  `when` (a mapping of fact -> test, all must hold) and/or `any` (a list of such mappings, one
  must hold). A test is a mapping with one of `regex`, `not_regex` (case-insensitive search),
  `in`, `not_in`, `equals`, `above`, `at_most`, `is`; a bare value means `equals`, a bare list
  `in`. On a fact holding a list, `regex` searches the values joined by a backslash, `in` and
  `above` hold when any value does.
- `tags`: DATMAN-style site patterns, tried before every rule: tag name -> `type` or `ignore`,
  `SeriesDescription` (a regex or a list of them), optional `ImageType` (a regex) and
  `EchoNumber`. When several tags match the description, ImageType then EchoNumber decide;
  a series still ambiguous is left to the rules.
- `subject`: where subject ids come from (see load_db/dicom/identity.py).

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
FILE_KEYS = {"rules", "tags", "subject"}
RULE_KEYS = {"name", "type", "ignore", "when", "any"}
TAG_KEYS = {"type", "ignore", "SeriesDescription", "ImageType", "EchoNumber"}
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
    """Rules in the order they are tried, and the subject settings."""

    rules: list[Rule | SiteTags] = field(default_factory=list)
    subject: dict[str, Any] = field(default_factory=dict)
    # The file whose `subject` settings apply (to name it in an error).
    subject_file: Path = DEFAULT_RULES

    def decide(self, facts: Facts) -> Decision:
        """Return the decision of the first matching rule (or 'no rule matched')."""
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

    def fits_image_type(self, facts: Facts) -> bool:
        return self.image_type is None or self.image_type(facts)

    def fits_echo(self, facts: Facts) -> bool:
        return self.echo is None or _same(facts.get("EchoNumbers"), self.echo)


@dataclass(frozen=True)
class SiteTags:
    """A site's tags, tried together before every rule (as DATMAN matches a series)."""

    tags: tuple[SiteTag, ...]

    def decide(self, facts: Facts) -> Decision | None:
        """The decision of the one tag that fits the series, or None (left to the rules).

        Tags are matched on the description; when several match, ImageType and then
        EchoNumber decide; a series still ambiguous is left untagged.
        """
        matches = [tag for tag in self.tags if tag.description(facts)]
        for fits in (SiteTag.fits_image_type, SiteTag.fits_echo):
            if len(matches) > 1:
                matches = [tag for tag in matches if fits(tag, facts)] or matches
        if len(matches) != 1:
            return None
        tag = matches[0]
        if not (tag.fits_image_type(facts) and tag.fits_echo(facts)):
            return None
        if tag.type is not None:
            return Decision(tag.type, f"tag:{tag.name}")
        return Decision(None, f"tag:{tag.name}", _fill(tag.ignore or tag.name, facts))


def _compile_tags(tags: Any, file: Path) -> SiteTags:
    """Check and compile the `tags` mapping of a rules file."""
    if not isinstance(tags, dict):
        raise RulesError("'tags' maps a tag name to its pattern", file=file, key="tags")
    compiled = []
    for name, spec in tags.items():
        where = f"tags.{name}"
        if not isinstance(spec, dict):
            raise RulesError("a tag is a mapping", file=file, key=where)
        unknown = sorted(set(spec) - TAG_KEYS)
        if unknown:
            raise RulesError(f"unknown key (allowed: {', '.join(sorted(TAG_KEYS))})",
                             file=file, key=f"{where}.{unknown[0]}")
        if "SeriesDescription" not in spec:
            raise RulesError("a tag needs a SeriesDescription pattern", file=file,
                             key=f"{where}.SeriesDescription")
        kind, reason = _outcome(spec, where, file)
        descriptions = _as_list(spec["SeriesDescription"])
        description = _compile_test("regex", "|".join(f"(?:{d})" for d in descriptions),
                                    "SeriesDescription", f"{where}.SeriesDescription", file)
        image_type = (_compile_test("regex", spec["ImageType"], "ImageType",
                                    f"{where}.ImageType", file) if "ImageType" in spec else None)
        compiled.append(SiteTag(str(name), kind, reason, description, image_type,
                                spec.get("EchoNumber")))
    return SiteTags(tuple(compiled))


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
        if "tags" in content:
            rule_set.rules.append(_compile_tags(content["tags"], file))
        entries = content.get("rules", [])
        if not isinstance(entries, list):
            raise RulesError("'rules' is a list", file=file, key="rules")
        rule_set.rules.extend(_compile_rule(entry, f"rules[{i}]", file)
                              for i, entry in enumerate(entries))
        subject = content.get("subject", {})
        if not isinstance(subject, dict):
            raise RulesError("'subject' is a mapping", file=file, key="subject")
        if subject and not rule_set.subject:
            rule_set.subject_file = file
        rule_set.subject = {**subject, **rule_set.subject}  # the first file wins
    return rule_set
