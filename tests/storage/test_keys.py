"""app/storage/keys.py: the one rule for what an object key may be."""
from __future__ import annotations

import pytest

from app.storage import (
    InvalidKey,
    check_designation,
    check_key,
    is_under,
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


@pytest.mark.parametrize(("designation", "problem"), [
    ("OASIS#x", "it contains '#', a separator in storage keys or URLs"),
    ("a/b", "it contains '/', a separator in storage keys or URLs"),
    ("a\\b", "it contains '\\\\', a separator in storage keys or URLs"),
    ("a?b", "it contains '?', a separator in storage keys or URLs"),
    ("100%", "it contains '%', a separator in storage keys or URLs"),
    ("a\tb", "it contains a control character"),
    ("a\x85b", "it contains a control character"),
    ("\ud800", "it is not valid Unicode text"),
    ("", "it is blank"),
    (" ", "it is blank"),
    ("\u3000", "it is blank"),  # an ideographic space: whitespace too
    (" OASIS", "it starts or ends with a space"),
    ("OASIS ", "it starts or ends with a space"),
    ("..", "'..' is not a folder name"),
    (".", "'.' is not a folder name"),
    (None, "it is blank"),
])
def test_check_designation_says_why(designation, problem):
    assert check_designation(designation) == problem


@pytest.mark.parametrize("designation", ["OASIS", "OMI-DB", "ds-001_v2.1", "Étude 3", "a b"])
def test_check_designation_accepts_names(designation):
    assert check_designation(designation) is None


@pytest.mark.parametrize(("key", "prefix", "under"), [
    ("OASIS/a.csv", "OASIS", True),
    ("OASIS/a.csv", "OASIS/", True),
    ("OASIS/sub/a.dcm", "OASIS", True),
    ("OASIS#x/a.dcm", "OASIS", False),  # a longer name is another folder
    ("OASISx/a.dcm", "OASIS", False),
    ("OASIS", "OASIS", False),  # the folder itself is no object in it
    ("OASIS/../OTHER/a", "OASIS", False),  # not a valid key at all
    ("a.csv", "", True),
])
def test_is_under_compares_whole_segments(key, prefix, under):
    assert is_under(key, prefix) is under
