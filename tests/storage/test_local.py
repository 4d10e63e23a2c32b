"""app/storage/local.py: the local-folder backend."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from app.storage import InvalidKey, LocalStorage, ObjectNotFound, StorageError
from tests.support.files import run_unprivileged


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


def test_a_link_out_of_the_root_is_never_an_object(tmp_path):
    """A symlink put in the folder by hand is not served, even under a valid key."""
    (tmp_path / "secret.txt").write_text("secret")
    storage = LocalStorage(tmp_path / "root")
    storage.put("DS/real.txt", b"real")
    os.symlink(tmp_path / "secret.txt", tmp_path / "root" / "DS" / "leak.txt")
    os.symlink("real.txt", tmp_path / "root" / "DS" / "alias.txt")

    assert [(info.key, info.size) for info in storage.list("DS/")] == [
        ("DS/alias.txt", 4), ("DS/real.txt", 4)]
    for call in (storage.stat, storage.open, storage.read, storage.presigned_url):
        with pytest.raises(ObjectNotFound, match="no object 'DS/leak.txt'"):
            call("DS/leak.txt")
    assert storage.exists("DS/leak.txt") is False
    assert storage.read("DS/alias.txt") == b"real"


def test_a_linked_folder_out_of_the_root_is_not_listed(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.txt").write_text("a")
    storage = LocalStorage(tmp_path / "root")
    storage.put("DS/real.txt", b"real")
    os.symlink(tmp_path / "elsewhere", tmp_path / "root" / "DS" / "linked")
    assert [info.key for info in storage.list("DS/")] == ["DS/real.txt"]
    assert list(storage.list("DS/linked/")) == []
    with pytest.raises(ObjectNotFound):
        storage.read("DS/linked/a.txt")


def test_an_unreadable_object_is_a_storage_error_not_an_os_error():
    # Not under tmp_path: the unprivileged reader must be able to reach the folder.
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        Path(folder).chmod(0o755)
        storage = LocalStorage(folder)
        storage.put("DS/locked.nii.gz", b"locked")
        (Path(folder) / "DS").chmod(0o755)
        (Path(folder) / "DS" / "locked.nii.gz").chmod(0o000)

        def read_as_nobody() -> list[str]:
            outcomes = []
            for call in (storage.stat, storage.open):
                try:
                    call("DS/locked.nii.gz")
                except StorageError as exc:
                    outcomes.append(f"{type(exc).__name__}: {exc}")
            return outcomes

        assert run_unprivileged(read_as_nobody) == [
            "StorageError: DS/locked.nii.gz: Permission denied"] * 2
