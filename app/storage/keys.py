"""The one rule for what an object key may be, applied wherever a key is formed or used.

A key is a relative POSIX path: not empty, no leading "/", no backslash, no empty, "." or ".."
segment, no control character (newline included), at most 1024 UTF-8 bytes (S3's limit). These
rules keep a key inside its prefix on the local backend and make it mean the same object on every
backend. Datasets are checked against it when they are seeded or registered (their designation
becomes their key prefix) and loaders can check the image paths they form, so nothing is written
to the database that storage would later refuse.

A dataset designation follows a stricter rule (`check_designation`): it names one folder, so it
holds no separator of any kind (`/`, `\\`, `#`, `?`, `%`, control characters) and is not blank
or padded with spaces. A served object must lie under its dataset's prefix (`is_under`).
"""
from __future__ import annotations

import re

from app.storage.errors import InvalidKey

MAX_KEY_LENGTH = 1024  # S3's limit, in UTF-8 bytes


# One pass each in C: tree readers check every file name of trees of 100,000 files.
_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\\\ud800-\udfff]")
_BAD_SEGMENT = re.compile(r"(?:^|/)(\.{0,2})(?:/|$)")


def _character_problem(char: str) -> str:
    if char == "\\":
        return "it contains a backslash"
    if "\ud800" <= char <= "\udfff":  # a lone surrogate: no backend can store it
        return "it is not valid Unicode text"
    return "it contains a control character"


def check_key(key: object) -> str | None:
    """Return why `key` is not a valid object key, or None when it is."""
    if not isinstance(key, str) or not key:
        return "it is empty"
    if key.startswith("/"):
        return "it is an absolute path"
    bad = _BAD_CHARACTER.search(key)
    if bad:
        return _character_problem(bad.group())
    # A character is at most 4 bytes: only long keys need encoding to be measured.
    if len(key) * 4 > MAX_KEY_LENGTH and len(key.encode("utf-8")) > MAX_KEY_LENGTH:
        return f"it is longer than {MAX_KEY_LENGTH} bytes"
    segment = _BAD_SEGMENT.search(key)
    if segment:
        name = segment.group(1)
        return f"it has an {'empty' if not name else repr(name)} path segment"
    return None


def validate_key(key: str) -> str:
    """Return `key` if it is a valid object key, else raise InvalidKey saying why."""
    problem = check_key(key)
    if problem:
        raise InvalidKey(f"invalid object key {key!r}: {problem}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is "" or a valid key, optionally ending with "/"; else InvalidKey."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


# A designation is one path segment: no character that splits or escapes a key or a URL.
_DESIGNATION_SEPARATORS = re.compile(r"[/\\#?%\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_designation(designation: object) -> str | None:
    """Return why `designation` cannot name a dataset (and be its key prefix), or None.

    Its length is the database column's to check (the loaders' text_problem).
    """
    if not isinstance(designation, str) or not designation.strip():
        return "it is blank"
    if designation != designation.strip():
        return "it starts or ends with a space"
    bad = _DESIGNATION_SEPARATORS.search(designation)
    if bad:
        char = bad.group()
        if char in "/\\#?%":
            return f"it contains {char!r}, a separator in storage keys or URLs"
        return _character_problem(char)
    if designation in (".", ".."):
        return f"{designation!r} is not a folder name"
    return check_key(designation)


def is_under(key: str, prefix: str) -> bool:
    """Whether `key` is a valid key of an object inside the folder `prefix` ("" is the root).

    The comparison is on whole path segments: `OASIS#x/a` is not under `OASIS`.
    """
    if check_key(key) is not None:
        return False
    prefix = prefix.strip("/")
    return not prefix or key.startswith(f"{prefix}/")


def join_key(prefix: str, relative: str) -> str:
    """Return the key of `relative` (a POSIX path) under `prefix`, validated."""
    prefix = prefix.strip("/")
    return validate_key(f"{prefix}/{relative}" if prefix else relative)
