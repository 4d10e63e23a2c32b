"""app/storage/sources.py: which entries of a dataset folder are files of the dataset."""
from __future__ import annotations

import os

import pytest

from app.storage.sources import (
    SYMLINK_LOOP,
    SYMLINK_OUTSIDE,
    SYMLINK_TO_FOLDER,
    SourceRoot,
    name_problem,
)


@pytest.fixture
def root(tmp_path):
    """A dataset folder holding one file and one folder, beside a file outside it."""
    (tmp_path / "outside.txt").write_text("secret")
    folder = tmp_path / "ds"
    (folder / "sub-01").mkdir(parents=True)
    (folder / "sub-01" / "real.txt").write_text("12345")
    return folder


def examine(root, name: str, target: str | os.PathLike[str]):
    link = root / name
    os.symlink(target, link)
    return SourceRoot(root).examine(str(link))


def test_a_link_to_a_file_inside_is_that_file(root):
    assert examine(root, "inside", "sub-01/real.txt") == (5, None)
    assert examine(root, "absolute-inside", root / "sub-01" / "real.txt") == (5, None)


@pytest.mark.parametrize(("target", "reason"), [
    ("/etc/hostname", SYMLINK_OUTSIDE),
    ("../outside.txt", SYMLINK_OUTSIDE),
    ("../no-such-file", SYMLINK_OUTSIDE),  # dangling, and outside
    ("sub-01", SYMLINK_TO_FOLDER),
    ("..", SYMLINK_OUTSIDE),
])
def test_links_out_of_the_folder_or_to_folders_are_refused(root, target, reason):
    assert examine(root, "link", target) == (None, reason)


def test_a_dangling_link_inside_is_a_file_of_unknown_size(root):
    # git-annex: the link names content that is not fetched; the file is known by name.
    assert examine(root, "annexed.nii.gz", ".git/annex/objects/XX/key") == (None, None)


def test_a_symlink_loop_is_named(root):
    os.symlink("loop-b", root / "loop-a")
    assert examine(root, "loop-b", "loop-a") == (None, SYMLINK_LOOP)


def test_a_fifo_is_not_a_regular_file(root):
    os.mkfifo(root / "participants.tsv")
    assert SourceRoot(root).examine(str(root / "participants.tsv")) == (
        None, "FIFO, not a regular file")


def test_the_root_may_itself_be_a_link(root, tmp_path):
    os.symlink(root, tmp_path / "alias")
    alias = SourceRoot(tmp_path / "alias")
    os.symlink("sub-01/real.txt", root / "inside")
    assert alias.examine(str(tmp_path / "alias" / "inside")) == (5, None)
    assert alias.contains(tmp_path / "alias" / "sub-01") is True
    assert alias.contains(tmp_path / "outside.txt") is False


def test_name_problem_applies_the_key_rule():
    assert name_problem("sub-01/anat/sub-01_T1w.nii.gz") is None
    assert name_problem("sub-01/anat/sub-01\n_T1w.nii.gz") == (
        "name not allowed in object storage: it contains a control character")
