"""app/storage/trees.py: the local and the storage file trees: listing, reading, leaving out."""
from __future__ import annotations

import ast
import pickle
from contextlib import closing
from pathlib import Path

import pytest

from app.storage import InvalidKey, sources, trees
from app.storage.sources import UnsafeEntry
from app.storage.trees import FileTree, ListedTree, LocalTree, StorageTree, skipped_entries
from load_db.bids.reader import read_bids
from load_db.engine.cells import printable
from tests.support.dataset_tree import tree_with_unreadable_folder, write_unsafe_tree
from tests.support.files import run_unprivileged, set_modified, write_tree


def test_storage_tree_lists_once_and_reads_only_what_is_asked(storage):
    storage.put("DS/participants.tsv", b"participant_id\nsub-01\n")
    storage.put("DS/sub-01/anat/sub-01_T1w.json", b'{"RepetitionTime": 2.3}')
    storage.put("DS/sub-01/anat/sub-01_T1w.nii.gz", b"\x1f\x8b" + bytes(98))
    storage.put("DSX/README", b"another dataset")
    tree = StorageTree(storage, "DS")
    assert tree.files() == [("participants.tsv", 22), ("sub-01/anat/sub-01_T1w.json", 23),
                            ("sub-01/anat/sub-01_T1w.nii.gz", 100)]
    assert tree.read_text("sub-01/anat/sub-01_T1w.json") == '{"RepetitionTime": 2.3}'
    storage.put("DS/late.txt", b"after the listing")
    assert [path for path, _ in tree.files()] == [
        "participants.tsv", "sub-01/anat/sub-01_T1w.json", "sub-01/anat/sub-01_T1w.nii.gz"]
    with pytest.raises(InvalidKey):
        tree.read_text("../DSX/README")
    assert StorageTree(storage, "").files()[0] == ("DS/late.txt", 17)


@pytest.fixture
def unsafe_tree(tmp_path):
    return write_unsafe_tree(tmp_path)


def test_local_tree_reads_only_files_inside_the_root(unsafe_tree):
    root, refused = unsafe_tree
    tree = LocalTree(root)
    assert sorted(tree.files()) == [("sub-01/anat/sub-01_T1w.json", 23),
                                    ("sub-01/anat/sub-01_T1w.json.link", 23)]
    assert tree.skipped == skipped_entries(tree) == refused
    assert tree.read_text("sub-01/anat/sub-01_T1w.json.link") == '{"RepetitionTime": 2.3}'


def test_a_strict_local_tree_stops_at_the_first_entry_outside(unsafe_tree):
    root, refused = unsafe_tree
    with pytest.raises(UnsafeEntry) as raised:
        list(LocalTree(root, strict=True).files())
    assert raised.value.reason == refused[raised.value.path]
    assert str(raised.value) == f"{raised.value.path}: {refused[raised.value.path]}"


def test_an_unreadable_folder_is_reported_by_name():
    with tree_with_unreadable_folder() as root:
        tree = LocalTree(root)
        files, skipped = run_unprivileged(lambda: (sorted(tree.files()), tree.skipped))
    assert files == [("README", 6)]
    assert skipped == {"sub-01/": "unreadable folder (Permission denied)"}


def test_a_storage_tree_skips_keys_that_break_the_key_rule(cos_storage):
    # S3 stores any key; one written by another tool may hold what a key may not.
    cos_storage.client.put_object(Bucket=cos_storage.bucket, Key="DS/sub-01\\a.json", Body=b"")
    cos_storage.put("DS/participants.tsv", b"participant_id\n")
    tree = StorageTree(cos_storage, "DS")
    assert tree.files() == [("participants.tsv", 15)]
    assert skipped_entries(tree) == {
        "sub-01\\a.json": "name not allowed in object storage: it contains a backslash"}
    with pytest.raises(UnsafeEntry, match=r"sub-01\\a.json: name not allowed"):
        StorageTree(cos_storage, "DS", strict=True).files()


def test_read_bids_reports_what_the_tree_left_out(unsafe_tree):
    root, refused = unsafe_tree
    (root / "participants.tsv").write_text("participant_id\nsub-01\n")
    (root / "sub-01" / "anat" / "sub-01_T1w.nii.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    frames = read_bids(root, storage_prefix="DS")
    assert frames.images["path"].tolist() == ["DS/sub-01/anat/sub-01_T1w.nii.gz"]
    for path, reason in refused.items():
        assert frames.report.ignored[reason] >= 1
        # the report keeps a name's control characters as escapes (load_db.engine.cells)
        assert printable(path) in frames.report.examples[reason] \
            or len(frames.report.examples[reason]) > 1


def test_local_tree_keeps_versions_and_trusts_only_settled_files(tmp_path):
    root = write_tree(tmp_path / "ds", {"old.json": "{}", "new.json": '{"a": 1}',
                                        "sub-01/anat/link.json": "x"})
    (root / "sub-01" / "anat" / "link.json").unlink()
    (root / "sub-01" / "anat" / "link.json").symlink_to(root / "old.json")
    set_modified(root, 60, "old.json")
    tree = LocalTree(root)
    assert sorted(tree.files()) == [("new.json", 8), ("old.json", 2),
                                    ("sub-01/anat/link.json", 2)]
    modified = (root / "old.json").stat().st_mtime_ns
    # new.json was written within UNSETTLED_NS of the listing: read again next time
    assert tree.versions == {"old.json": f"2:{modified}", "new.json": None,
                             "sub-01/anat/link.json": f"2:{modified}"}
    assert tree.source == str(root.resolve())


def test_storage_tree_versions_are_size_and_etag(storage):
    storage.put("DS/sub-01/anat/sub-01_T1w.json", b'{"RepetitionTime": 2.3}')
    tree = ListedTree(StorageTree(storage, "DS"))
    etag = next(iter(storage.list("DS/"))).etag
    # Without an ETag (the local backend) a same-size edit would go unseen: never trusted.
    assert tree.versions == {"sub-01/anat/sub-01_T1w.json": f"23:{etag}" if etag else None}
    assert tree.source == f"{storage!r}/DS"
    assert tree.files() == [("sub-01/anat/sub-01_T1w.json", 23)]
    assert tree.read_text("sub-01/anat/sub-01_T1w.json") == '{"RepetitionTime": 2.3}'


def test_both_trees_open_a_binary_stream_and_are_file_trees(storage, tmp_path):
    root = write_tree(tmp_path / "ds", {"sub-01/a.dcm": "DICM bytes"})
    storage.put("DS/sub-01/a.dcm", b"DICM bytes")
    local, stored = LocalTree(root), StorageTree(storage, "DS")
    for tree in (local, stored, ListedTree(local), ListedTree(stored)):
        assert isinstance(tree, FileTree)
        with closing(tree.open("sub-01/a.dcm")) as stream:
            assert stream.read(4) == b"DICM"
    # only a local file can seek: the DICOM reader copies an object's first bytes before
    assert (local.seekable, stored.seekable, ListedTree(local).seekable) == (True, False, True)


def test_ignored_entries_are_kept_apart_before_they_are_examined(unsafe_tree):
    root, refused = unsafe_tree
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / ".hidden-link").symlink_to("/etc/hostname")
    (root / "sub-01" / "backup.zip").write_bytes(b"PK")

    def hidden_or_zip(relative: str, folder: bool) -> str | None:
        name = relative.rpartition("/")[2]
        return "hidden" if name.startswith(".") else "zip" if name.endswith(".zip") else None

    tree = LocalTree(root, ignore=hidden_or_zip)
    assert sorted(tree.files()) == [("sub-01/anat/sub-01_T1w.json", 23),
                                    ("sub-01/anat/sub-01_T1w.json.link", 23)]
    # the link out of the folder is ignored by name, not refused; a folder keeps its slash
    assert tree.ignored == {".git/": "hidden", ".hidden-link": "hidden",
                            "sub-01/backup.zip": "zip"}
    assert tree.skipped == refused


def test_a_local_tree_is_sent_to_a_worker_without_its_listing(unsafe_tree):
    root, _ = unsafe_tree
    tree = LocalTree(root)
    list(tree.files())
    copy = pickle.loads(pickle.dumps(tree))
    assert (copy.skipped, copy.versions, copy.source) == ({}, {}, tree.source)
    assert tree.skipped and tree.versions
    assert copy.read_text("sub-01/anat/sub-01_T1w.json") == '{"RepetitionTime": 2.3}'


def test_the_tree_module_imports_only_the_standard_library_and_storage():
    # Storage sits under the loaders and the API: it knows neither Flask nor the tables.
    allowed = {"__future__", "collections", "errno", "os", "pathlib", "stat", "time", "typing",
               "app.storage"}
    for module in (trees, sources):
        tree = ast.parse(Path(module.__file__).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
        outside = {name for name in imported
                   if not any(name == root or name.startswith(f"{root}.") for root in allowed)}
        assert outside == set(), module.__name__
