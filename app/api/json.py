"""JSON responses that are always valid JSON: NaN and +/-Infinity are written as null.

Stored values can hold them (a sidecar's NaN kept in metadata on SQLite, a float column on
PostgreSQL), and Python's encoder would write them bare, which no JSON parser accepts.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider


def without_non_finite(value: Any) -> Any:
    """Return `value` with every NaN or infinite float inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: without_non_finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_non_finite(item) for item in value]
    return value


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, keeping the fields in schema order and refusing bare NaN."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise `obj`; a non-finite number anywhere in it becomes null."""
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        try:
            # The common case costs one pass: only a document that holds NaN is copied.
            return json.dumps(obj, allow_nan=False, **kwargs)
        except ValueError:
            return json.dumps(without_non_finite(obj), allow_nan=False, **kwargs)


# Limits of a JSON document a client sends (request bodies, cursors). No document of the API
# comes near them; past them a parser would recurse without end (deep nesting) or spend
# quadratic time on a number (Python refuses integers of over 4,300 digits with a ValueError).
MAX_JSON_DEPTH = 64
MAX_JSON_INTEGER_DIGITS = 64

# A JSON escape of a UTF-16 surrogate (\udXXX with X from 8 to f): the only way a JSON text that
# is valid UTF-8 can hold a lone surrogate, so only documents holding one need a full check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONLimitError(ValueError):
    """A JSON document that is valid JSON but past the limits the API accepts.

    `field` is the top-level member the problem lies in, when known (None: the document).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise JSONLimitError(f"an integer has more than {MAX_JSON_INTEGER_DIGITS} digits")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: no database stores it, and JSON cannot write it
        raise JSONLimitError(f"the number {text[:20]} is too large")
    return value


def _no_constant(name: str) -> None:
    # Python's parser accepts NaN and Infinity, which are not JSON.
    raise JSONLimitError(f"{name} is not a JSON number")


def _check_structure(document: Any, check_text: bool) -> None:
    """Refuse a document nested deeper than MAX_JSON_DEPTH or (with `check_text`) holding text
    that is not valid Unicode (a lone surrogate, which no database driver can encode)."""
    # (value, its depth, the top-level member it lies in)
    pending: list[tuple[Any, int, str | None]] = [(document, 1, None)]
    while pending:
        value, depth, member = pending.pop()
        if isinstance(value, str):
            if check_text:
                _check_text(value, member)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise JSONLimitError(f"the document is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            if check_text:
                for key in value:
                    _check_text(key, member)
            # Members of the top-level object are named in the error: they are the fields.
            pending.extend((item, depth + 1, key if depth == 1 else member)
                           for key, item in value.items())
        else:
            pending.extend((item, depth + 1, member) for item in value)


def _check_text(text: str, member: str | None) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONLimitError("a string holds a lone surrogate (\\ud800 to \\udfff): "
                             "not valid Unicode text", member) from None


def load_bounded_json(text: str | bytes, *, check_text: bool = True) -> Any:
    """Parse a JSON document a client sent, within the limits of the API.

    Raises json.JSONDecodeError (or UnicodeDecodeError for bytes) when it is not JSON, and
    JSONLimitError when it is nested deeper than MAX_JSON_DEPTH, holds an integer of more than
    MAX_JSON_INTEGER_DIGITS digits, a number too large for a float, NaN or Infinity, or
    (unless `check_text` is false: the caller checks its strings itself) a string that is not
    valid Unicode.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8")
    try:
        document = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float,
                              parse_constant=_no_constant)
    except RecursionError:
        raise JSONLimitError(
            f"the document is nested deeper than {MAX_JSON_DEPTH} levels") from None
    # Walking the document costs a pass over it: only documents that could break a limit get
    # one (more opening brackets than the depth limit, or a surrogate escape).
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_JSON_DEPTH or (check_text and _SURROGATE_ESCAPE.search(text)):
        _check_structure(document, check_text)
    return document
