"""load_file/tree.py: which files of a folder upload stores, under which keys."""
from __future__ import annotations

import pytest

from app.storage import LocalStorage
from app.storage.sources import UnsafeEntry
from load_file.tree import BROKEN_SYMLINK, plan_tree
from load_file.upload import upload_tree
from tests.support.dataset_tree import tree_with_unreadable_folder, write_unsafe_tree
from tests.support.files import run_unprivileged


@pytest.fixture
def unsafe_tree(tmp_path):
    return write_unsafe_tree(tmp_path)


def test_plan_stores_only_files_inside_the_folder(unsafe_tree):
    root, refused = unsafe_tree
    (root / "sub-01" / "anat" / "sub-01_T1w.nii.gz.link").symlink_to("absent-target")
    plan = plan_tree(root, "DS")
    assert [(item.key, item.size_on_disk) for item in plan.files] == [
        ("DS/sub-01/anat/sub-01_T1w.json", 23), ("DS/sub-01/anat/sub-01_T1w.json.link", 23)]
    assert plan.refused == {**refused, "sub-01/anat/sub-01_T1w.nii.gz.link": BROKEN_SYMLINK}


def test_upload_reports_the_refused_entries_and_stores_nothing_of_them(unsafe_tree, tmp_path):
    root, refused = unsafe_tree
    storage = LocalStorage(tmp_path / "storage")
    report = upload_tree(storage, root, "DS", progress=False)
    assert report.uploaded == ["DS/sub-01/anat/sub-01_T1w.json",
                               "DS/sub-01/anat/sub-01_T1w.json.link"]
    assert [info.key for info in storage.list()] == report.uploaded
    assert report.refused == refused
    assert report.ok
    lines = report.summary().splitlines()
    assert lines[1] == f"refused (not files of the dataset): {len(refused)}"
    assert "  refused sub-01/anat/sub-01_T2w.nii.gz: symlink leading out of the dataset " \
           "folder" in lines


def test_a_strict_upload_stops_before_uploading_anything(unsafe_tree, tmp_path):
    root, refused = unsafe_tree
    storage = LocalStorage(tmp_path / "storage")
    with pytest.raises(UnsafeEntry) as raised:
        upload_tree(storage, root, "DS", strict=True, progress=False)
    assert raised.value.reason == refused[raised.value.path]
    assert list(storage.list()) == []


def test_an_unreadable_folder_is_refused_by_name():
    with tree_with_unreadable_folder() as root:
        plan = run_unprivileged(lambda: plan_tree(root, "DS"))
    assert [item.key for item in plan.files] == ["DS/README"]
    assert plan.refused == {"sub-01/": "unreadable folder (Permission denied)"}
