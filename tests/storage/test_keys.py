"""app/storage/keys.py: the one rule for what an object key may be."""
from __future__ import annotations

import pytest

from app.storage import (
    InvalidKey,
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
