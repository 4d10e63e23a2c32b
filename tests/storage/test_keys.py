"""app/storage/keys.py: the one rule for what an object key may be."""
from __future__ import annotations

import pytest

from app.storage import (
    InvalidKey,
    check_key,
    join_key,
    validate_key,
)

BAD_KEYS = [
    ("", "empty"),
    ("/etc/passwd", "absolute path"),
    ("DS/../secret", "'..' path segment"),
    ("..", "'..' path segment"),
    ("DS\\sub-01", "backslash"),
    ("DS//sub-01", "empty path segment"),
    ("DS/sub-01/", "empty path segment"),
    ("DS/./a", "'.' path segment"),
    ("DS/a\nb", "control character"),
    ("a" * 1025, "longer than 1024 bytes"),
]


@pytest.mark.parametrize(("key", "problem"), BAD_KEYS)
def test_validate_key_rejects_bad_keys(key, problem):
    with pytest.raises(InvalidKey, match=problem):
        validate_key(key)


def test_join_key():
    assert join_key("DS", "sub-01/anat.nii.gz") == "DS/sub-01/anat.nii.gz"
    assert join_key("DS/", "README") == "DS/README"
    assert join_key("", "README") == "README"
    with pytest.raises(InvalidKey):
        join_key("DS", "../README")


@pytest.mark.parametrize(("key", "problem"), [
    ("DS/a\nb", "it contains a control character"),
    ("DS/a\x85b", "it contains a control character"),  # NEL, a C1 control character
    ("DS/a\x00b", "it contains a control character"),
    ("DS/\ud800.nii.gz", "it is not valid Unicode text"),
    ("../../etc", "it has an '..' path segment"),
    ("é" * 513, "it is longer than 1024 bytes"),  # 513 characters, 1026 bytes
    (None, "it is empty"),
])
def test_check_key_says_why(key, problem):
    assert check_key(key) == problem


@pytest.mark.parametrize("key", [
    "DS", "oasis/v3/sub-01/anat/sub-01_T1w.nii.gz", "DS/...", "DS/a..b", "DS/.hidden",
    'DS/sub-01_"quoted" name é.nii.gz', "é" * 512,
])
def test_check_key_accepts_valid_keys(key):
    assert check_key(key) is None
    assert validate_key(key) == key
