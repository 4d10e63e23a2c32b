"""load_file/checksums.py: image checksums after upload and load, in either order.

On both databases and both storage backends, over the bundled HCP example data.
"""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.models import Dataset, Image
from app.storage import get_storage
from globals import DATA_DIR
from load_file.checksums import compare_image_checksums, fill_image_checksums
from tests.support.factories import make_dataset, make_image

HCP_IMAGES = 11


pytestmark = pytest.mark.storage("each")


@pytest.fixture
def runner(app, session):
    """A CLI runner over a seeded database and an empty HCP prefix in storage."""
    cli = app.test_cli_runner()
    result = cli.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    storage = get_storage()
    for info in list(storage.list("HCP/")):
        storage.delete(info.key)
    return cli


def run(cli, *args: str) -> str:
    result = cli.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def hcp_images(session) -> list[tuple[str, str | None, int | None]]:
    session.expire_all()
    return session.execute(select(Image.path, Image.checksum, Image.file_size)
                           .join(Dataset).where(Dataset.designation == "HCP")
                           .order_by(Image.path)).all()


@pytest.mark.parametrize("order", ["load, then upload", "upload, then load"])
def test_every_example_image_gets_the_sha256_of_its_object(runner, session, order):
    steps = [("load", "HCP"), ("upload", "HCP", str(DATA_DIR / "HCP"))]
    for step in steps if order == "load, then upload" else reversed(steps):
        output = run(runner, *step)
    recorded = "image checksums recorded: 11" if order == "load, then upload" else None
    if recorded:
        assert output.splitlines()[-1] == recorded

    images = hcp_images(session)
    assert len(images) == HCP_IMAGES
    storage = get_storage()
    for path, checksum, file_size in images:
        data = storage.read(path)
        assert re.fullmatch(r"[0-9a-f]{64}", checksum), path
        assert (checksum, file_size) == (hashlib.sha256(data).hexdigest(), len(data)), path
    assert run(runner, "check-storage", "HCP", str(DATA_DIR / "HCP")) == "0 difference(s)\n"


def test_upload_before_any_load_records_nothing_and_a_rerun_changes_nothing(runner, session):
    assert run(runner, "upload", "HCP", str(DATA_DIR / "HCP")).splitlines()[-1] == (
        "image checksums recorded: 0")
    run(runner, "load", "HCP")
    again = run(runner, "upload", "HCP", str(DATA_DIR / "HCP")).splitlines()
    assert again[0].startswith("uploaded: 0, skipped (already present): 12")
    assert again[-1] == "image checksums recorded: 0"
    assert all(checksum for _, checksum, _ in hcp_images(session))


def test_check_storage_compares_the_recorded_checksums(runner, session):
    run(runner, "load", "HCP")
    run(runner, "upload", "HCP", str(DATA_DIR / "HCP"))
    first, second, *_ = session.scalars(
        select(Image).join(Dataset).where(Dataset.designation == "HCP").order_by(Image.path))
    actual = first.checksum
    first.checksum = "0" * 64
    second.checksum = None
    session.commit()

    result = runner.invoke(args=["check-storage", "HCP", str(DATA_DIR / "HCP")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"recorded: {first.path} (database sha256 {'0' * 64}, storage {actual})",
        f"unrecorded: {second.path} (image {second.id} has no checksum in the database: "
        "run flask upload or flask load)",
        "2 difference(s)",
    ]


def test_fill_trusts_known_digests_and_leaves_unverifiable_objects(app, session):
    storage = get_storage()
    dataset = make_dataset(session, designation="FILL", storage_prefix="fill")
    known_image = make_image(session, dataset=dataset, path="fill/a.nii.gz", file_size=None)
    stored_image = make_image(session, dataset=dataset, path="fill/b.nii.gz", file_size=None)
    absent_image = make_image(session, dataset=dataset, path="fill/absent.nii.gz", file_size=7)
    storage.put("fill/a.nii.gz", b"aaaa")
    storage.put("fill/b.nii.gz", b"bbbbbb")

    # The caller's digest is trusted as is: no object is read for it.
    count = fill_image_checksums(session, storage, "FILL", known={"fill/a.nii.gz": (4, "f" * 64)})
    assert count == 2
    session.expire_all()  # the bulk UPDATE by primary key does not refresh loaded objects
    assert (known_image.checksum, known_image.file_size) == ("f" * 64, 4)
    assert (stored_image.checksum, stored_image.file_size) == (
        hashlib.sha256(b"bbbbbb").hexdigest(), 6)
    assert (absent_image.checksum, absent_image.file_size) == (None, 7)
    # Recorded and of the object's size: nothing to do.
    assert fill_image_checksums(session, storage, "FILL") == 0
    assert fill_image_checksums(session, storage, "NO-SUCH-DATASET") == 0
    assert [str(d) for d in compare_image_checksums(session, storage, "FILL")] == [
        f"recorded: fill/a.nii.gz (database sha256 {'f' * 64}, storage "
        f"{hashlib.sha256(b'aaaa').hexdigest()})",
        f"unstored: fill/absent.nii.gz (image {absent_image.id} has no object in storage)",
    ]
