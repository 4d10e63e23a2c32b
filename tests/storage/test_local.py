"""app/storage/local.py: the local-folder backend."""
from __future__ import annotations

import pytest

from app.storage import (
    InvalidKey,
    LocalStorage,
)


def test_local_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(InvalidKey):
        storage.put("../outside", b"x")
    with pytest.raises(InvalidKey):
        list(storage.list("../"))
    assert not (tmp_path / "outside").exists()


def test_local_put_is_atomic_and_leaves_no_temporary(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("DS/a", b"abc")
    assert sorted(p.name for p in (tmp_path / "DS").iterdir()) == ["a"]
    # A temporary left by a killed put is not an object.
    (tmp_path / "DS" / ".mbid-tmp-dead").write_bytes(b"partial")
    assert [i.key for i in storage.list("DS/")] == ["DS/a"]
