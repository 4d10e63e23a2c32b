"""The bundled example data: reproducible byte for byte, valid NIfTI, and loadable all together."""
import gzip
import struct

import pandas as pd
import pytest
from sqlalchemy import func, select

from app.models import Dataset, Image, LoadRun, Subject, Visit
from globals import DATA_DIR, SEED_DIR
from load_db.datasets import with_example_data
from load_db.examples import NIFTI_HEADER, VOX_OFFSET, write_examples
from tests.support.apps import data_counts
from tests.support.examples import count, flask_load

BUNDLED = with_example_data()  # the dataset packages whose example data is under data/


def files_under(root):
    return {path.relative_to(root).as_posix(): path for package in BUNDLED
            for path in package.data_dir(root).rglob("*") if path.is_file()}


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    """python -m load_db.examples runs every package's writer: together they rewrite data/."""
    written = write_examples(tmp_path)
    generated, committed = files_under(tmp_path), files_under(DATA_DIR)
    assert len(written) == len(generated)
    assert sorted(generated) == sorted(committed)
    differing = [name for name, path in generated.items()
                 if path.read_bytes() != committed[name].read_bytes()]
    assert differing == []


@pytest.mark.parametrize(("relative", "dim"), [
    ("HCP/100206/unprocessed/3T/T1w_MPR1/100206_3T_T1w_MPR1.nii.gz", (3, 4, 4, 4, 1)),
    ("OASIS/bids/sub-OAS30001/ses-d0129/dwi/sub-OAS30001_ses-d0129_dwi.nii.gz", (4, 4, 4, 3, 3)),
    ("openpain/sub-01/ses-visit1/func/sub-01_ses-visit1_task-rest_bold.nii.gz", (4, 4, 4, 3, 5)),
])
def test_example_images_are_valid_nifti1(relative, dim):
    content = (DATA_DIR / relative).read_bytes()
    assert content[4:8] == b"\0\0\0\0"   # gzip mtime 0: the bytes do not depend on the clock
    raw = gzip.decompress(content)
    header = NIFTI_HEADER.unpack(raw[:348])
    assert header[0] == 348 and header[-1] == b"n+1\0"
    dims = struct.unpack("<8h", raw[40:56])
    assert dims[:5] == dim
    datatype, bitpix = struct.unpack("<2h", raw[70:74])
    assert (datatype, bitpix) == (2, 8)
    assert struct.unpack("<f", raw[108:112])[0] == VOX_OFFSET
    voxels = 1
    for size in dims[1:dims[0] + 1]:
        voxels *= size
    assert len(raw) == VOX_OFFSET + voxels


def test_make_run_loads_every_example(app, seeded):
    """`flask load --all-examples` loads each package with example data, in one run each."""
    session = seeded
    result = app.test_cli_runner().invoke(args=["load", "--all-examples"])
    assert result.exit_code == 0, result.output
    per_dataset = dict(session.execute(
        select(Dataset.designation, func.count(Subject.id)).join(Subject)
        .group_by(Dataset.designation)).all())
    read = {package.designation: package.read(package.data_dir()) for package in BUNDLED}
    assert per_dataset == {name: len(frames.subjects) for name, frames in read.items()}
    assert count(session, Image) == sum(len(frames.images) for frames in read.values())
    assert count(session, Visit) == sum(len(frames.visits) for frames in read.values())
    loaders = session.scalars(select(LoadRun.loader).order_by(LoadRun.id)).all()
    assert loaders == ["seed"] + [f"load {package.designation}" for package in BUNDLED]
    # Every study of the seed list has subjects and images: /stats and the dashboard show no
    # empty dataset after `make run`.
    seed_list = pd.read_excel(SEED_DIR / "datasets_list.xls")["designation"].tolist()
    with_images = dict(session.execute(
        select(Dataset.designation, func.count(Image.id)).join(Image)
        .group_by(Dataset.designation)).all())
    assert sorted(with_images) == sorted(seed_list) == sorted(per_dataset)
    assert len(seed_list) == 13 and min(with_images.values()) > 0


def test_dry_run_writes_nothing(app, seeded):
    before = data_counts()
    result = flask_load(app, "OASIS", None, "--dry-run")
    assert result.exit_code == 0, result.output
    assert data_counts() == before


def test_unknown_dataset_is_refused(app, seeded):
    result = flask_load(app, "NoSuchStudy")
    assert result.exit_code == 2
    known = ", ".join(sorted(seeded.scalars(select(Dataset.designation))))
    assert f"no dataset 'NoSuchStudy' (known: {known})" in result.output
