"""The bundled example data: reproducible byte for byte, valid NIfTI, and loadable all together."""
import gzip
import struct

import pytest
from sqlalchemy import func, select

from app.models import Dataset, Image, LoadRun, Subject, Visit
from app.storage import LocalStorage
from globals import DATA_DIR
from load_db.examples import NIFTI_HEADER, VOX_OFFSET, write_examples
from load_file.upload import dataset_prefix, upload_tree
from tests.support.apps import data_counts
from tests.support.examples import count, flask_load

EXAMPLES = ("OASIS", "openpain", "HCP", "OMI-DB")  # the data folders of the example datasets


def files_under(root):
    return {path.relative_to(root).as_posix(): path for folder in EXAMPLES
            for path in (root / folder).rglob("*") if path.is_file()}


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    written = write_examples(tmp_path)
    generated, committed = files_under(tmp_path), files_under(DATA_DIR)
    assert len(written) == len(generated) == 134 + 72
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
    session = seeded
    for designation in ("OASIS", "OpenPain", "HCP", "OMI-DB"):
        result = flask_load(app, designation)
        assert result.exit_code == 0, result.output
    per_dataset = dict(session.execute(
        select(Dataset.designation, func.count(Subject.id)).join(Subject)
        .group_by(Dataset.designation)).all())
    assert per_dataset == {"OASIS": 14, "OpenPain": 12, "HCP": 12, "OMI-DB": 4}
    assert (count(session, Visit), count(session, Image)) == (24 + 24 + 12 + 8,
                                                              23 + 46 + 11 + 32)
    runs = session.execute(select(LoadRun.loader, LoadRun.report).order_by(LoadRun.id)).all()
    assert [loader for loader, _ in runs] == ["seed", "load OASIS", "load OpenPain", "load HCP",
                                           "load OMI-DB"]
    assert runs[1].report["tables"]["image"]["inserted"] == 23


def test_every_loaded_example_image_is_a_key_of_the_uploaded_examples(app, seeded, tmp_path):
    """make run uploads data/<folder> under each dataset prefix: image paths are those keys."""
    storage = LocalStorage(tmp_path / "storage")
    for designation, folder in (("OASIS", "OASIS"), ("OpenPain", "openpain"), ("HCP", "HCP"),
                                ("OMI-DB", "OMI-DB")):
        assert flask_load(app, designation).exit_code == 0
        report = upload_tree(storage, DATA_DIR / folder, dataset_prefix(seeded, designation),
                             progress=False)
        assert report.ok
    paths = set(seeded.scalars(select(Image.path)))
    assert len(paths) == 80 + 32
    assert {path for path in paths if not storage.exists(path)} == set()


def test_dry_run_writes_nothing(app, seeded):
    before = data_counts()
    result = flask_load(app, "OASIS", None, "--dry-run")
    assert result.exit_code == 0, result.output
    assert data_counts() == before


def test_unknown_dataset_is_refused(app, seeded):
    result = flask_load(app, "ADNI")
    assert result.exit_code == 2
    assert "no loader for dataset 'ADNI' (known: HCP, OASIS, OMI-DB, OpenPain)" in result.output
