"""`flask load-dicom` over bad input (issue 21): a truncated file, a gzip bomb, an id too long
for its column, a NUL in a description. Each is reported and left out (the rest is loaded),
or with --strict stops the load (exit 2, naming the file, nothing written); never a traceback.
On SQLite and PostgreSQL."""
from __future__ import annotations

import gzip
import io
import json
import time
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid
from sqlalchemy import select

from app.models import Image, SeriesTag, Subject
from tests.support.apps import data_counts
from tests.support.dicom import write_series

LONG_ID = "P" * 69  # a DICOM LO holds 64 characters; so does subject.external_id


def _edit(folder: Path, **values: str) -> None:
    """Set header `values` in every file of `folder` (pydicom writes what it is given)."""
    for file in sorted(folder.iterdir()):
        dataset = pydicom.dcmread(file)
        for keyword, value in values.items():
            setattr(dataset, keyword, value)
        dataset.save_as(file)


def _tree(root: Path) -> Path:
    """Four series of one study: two good, one whose PatientID is too long, one whose
    description holds a NUL; a truncated copy of a good file beside the good ones; and another
    patient's series whose age is 999 years."""
    study = generate_uid()
    write_series(root / "t1", "SUBJ01", "T1w MPRAGE", 1, study_uid=study)
    write_series(root / "t1b", "SUBJ01", "T1w MPRAGE", 2, study_uid=study)
    _edit(write_series(root / "long", "SUBJ01", "T1w MPRAGE", 3, study_uid=generate_uid()),
          PatientID=LONG_ID)
    _edit(write_series(root / "nul", "SUBJ01", "T1w MPRAGE", 4, study_uid=study),
          SeriesDescription="T1w\0MPRAGE")
    _edit(write_series(root / "old", "SUBJ02", "T1w MPRAGE", 1, study_uid=generate_uid()),
          PatientAge="999Y")
    whole = (root / "t1" / "0001.dcm").read_bytes()
    (root / "t1" / "truncated.dcm").write_bytes(whole[:len(whole) // 2])
    return root


def _load(app, root: Path, *options: str):
    # The PatientIDs are declared research ids: stored as they are, so the long one is too long
    # for its column (an undeclared id becomes a pseudonym of 16 characters, which always fits).
    rules = root.parent / "study.yaml"
    rules.write_text("subject:\n  research_id: '[A-Z0-9]+'\n")
    return app.test_cli_runner().invoke(args=[
        "load-dicom", "BAD", str(root), "--register", "--workers", "1", "--json",
        "--rules", str(rules), *options])


def test_bad_series_and_files_are_reported_and_the_rest_is_loaded(app, seeded, tmp_path):
    result = _load(app, _tree(tmp_path / "dicom"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    report = json.loads(result.output)
    assert report["ignored"]["unreadable DICOM file (truncated DICOM file)"] == 1
    assert report["ignored"]["series whose subject the database cannot hold"] == 1
    assert report["examples"]["series whose subject the database cannot hold"] == [
        "long (69 characters, more than the 64 the column holds)"]
    assert report["notes"]["NUL characters removed from the text values of a DICOM header"] == 1
    paths = sorted(seeded.scalars(select(Image.path)))
    assert paths == ["BAD/nul", "BAD/old", "BAD/t1", "BAD/t1b"]
    t1 = seeded.scalar(select(Image).where(Image.path == "BAD/t1"))
    assert t1.metadata_json["NumberOfFiles"] == 2  # the truncated file is left out
    nul = seeded.scalar(select(Image).where(Image.path == "BAD/nul"))
    assert nul.metadata_json["SeriesDescription"] == "T1wMPRAGE"
    assert seeded.scalar(select(SeriesTag.description).where(
        SeriesTag.path == "BAD/nul")) == "T1wMPRAGE"
    assert report["notes"]["patient's age outside 0..150 years in the header: left unknown"] == 1
    assert sorted((s.age_at_baseline or 0) for s in seeded.scalars(select(Subject))) == [0, 30]


@pytest.mark.parametrize(("remove", "message"), [
    ((), "t1/truncated.dcm: truncated DICOM file"),
    (("t1/truncated.dcm",), "long/0001.dcm, column 'subject': 69 characters, more than the 64 "
                            "the column holds"),
])
def test_strict_stops_at_the_first_bad_input_naming_it(app, seeded, tmp_path, remove, message):
    root = _tree(tmp_path / "dicom")
    for path in remove:
        (root / path).unlink()
    before = data_counts()
    result = _load(app, root, "--strict")
    assert result.exit_code == 2, result.output
    assert message in result.output and "(nothing was written)" in result.output
    assert "Traceback" not in result.output
    assert data_counts() == before


def _bombs(root: Path) -> dict[str, bytes]:
    """Gzipped files of about 50 KB that decompress to 50 MB: zeros after the DICM marker,
    after the file meta group, and after a whole header."""
    write_series(root / "real", "SUBJ01", "T1w", 1, files=1, study_uid=generate_uid())
    real = (root / "real" / "0001.dcm").read_bytes()
    meta_end = 144 + int.from_bytes(real[140:144], "little")  # (0002,0000) UL: group length
    zeros = bytes(50 * 1024 * 1024)
    return {"after-marker": real[:132] + zeros, "after-meta": real[:meta_end] + zeros,
            "before-pixels": real[:real.index(bytes.fromhex("e07f1000"))] + zeros}


def test_a_gzip_bomb_is_refused_in_seconds_naming_the_file(app, seeded, tmp_path):
    root = tmp_path / "dicom"
    bombs = _bombs(tmp_path / "made")
    for name, data in bombs.items():
        (root / "bombs").mkdir(parents=True, exist_ok=True)
        (root / "bombs" / f"{name}.dcm.gz").write_bytes(gzip.compress(data, 9))
    write_series(root / "t1", "SUBJ01", "T1w MPRAGE", 1, study_uid=generate_uid())
    started = time.monotonic()
    result = _load(app, root)
    assert time.monotonic() - started < 20
    assert result.exit_code == 0, result.output
    broken = "unreadable DICOM file (DICOM preamble but a broken header)"
    report = json.loads(result.output)
    assert report["ignored"][broken] == 3  # the third bomb's series is read up to its zeros
    assert sorted(report["examples"][broken]) == [
        "bombs/after-marker.dcm.gz", "bombs/after-meta.dcm.gz", "bombs/before-pixels.dcm.gz"]
    assert sorted(seeded.scalars(select(Image.path))) == ["BAD/t1"]

    strict = _load(app, root / "bombs", "--strict")
    assert strict.exit_code == 2
    assert ("Error: after-marker.dcm.gz: DICOM preamble but a broken header: no file meta "
            "information after the DICM marker (nothing was written)") in strict.output


def _with_frames(folder: Path, frames: bytes) -> None:
    """Insert a raw NumberOfFrames (0028,0008) IS value before Rows in every file of
    `folder`: pydicom would refuse to write one that is not a whole number."""
    for file in folder.iterdir():
        data = file.read_bytes()
        rows = data.index(bytes.fromhex("28001000"))
        element = bytes.fromhex("28000800") + b"IS" + len(frames).to_bytes(2, "little") + frames
        file.write_bytes(data[:rows] + element + data[rows:])


def test_a_real_file_cut_short_and_a_frame_count_of_1e999_are_left_out(app, seeded,
                                                                       copy_dicom, tmp_path):
    root = tmp_path / "dicom"
    dwi = copy_dicom("dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "dicom/dwi")
    cut = sorted(dwi.iterdir())[0]
    cut.write_bytes(cut.read_bytes()[:1200])  # `head -c 1200`
    _with_frames(write_series(root / "inf", "SUBJ01", "T1w", 1, study_uid=generate_uid()),
                 b"1e999 ")
    result = _load(app, root)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ignored"]["unreadable DICOM file (truncated DICOM file)"] == 1
    assert report["examples"]["unreadable DICOM file (truncated DICOM file)"] == [
        f"dwi/{cut.name}"]
    assert report["ignored"]["unreadable DICOM file (DICOM preamble but a broken header)"] == 2
    assert sorted(seeded.scalars(select(Image.path))) == ["BAD/dwi"]


def _deflated_zeros(real: bytes, megabytes: int) -> bytes:
    """`real`'s preamble and file meta group, declaring a deflated dataset, then `megabytes`
    MiB of zeros deflated (about 1 KB per MiB)."""
    dataset = pydicom.dcmread(io.BytesIO(real))
    dataset.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    written = out.getvalue()
    meta_end = 144 + int.from_bytes(written[140:144], "little")
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    body = b"".join(deflater.compress(chunk) for _ in range(megabytes)) + deflater.flush()
    return written[:meta_end] + body


def test_a_deflated_dataset_bomb_is_refused_before_it_is_inflated(app, seeded, tmp_path):
    write_series(tmp_path / "made", "SUBJ01", "T1w", 1, files=1, study_uid=generate_uid())
    real = (tmp_path / "made" / "0001.dcm").read_bytes()
    root = tmp_path / "dicom"
    root.mkdir()
    (root / "small.dcm").write_bytes(_deflated_zeros(real, 50))
    (root / "huge.dcm").write_bytes(_deflated_zeros(real, 300))
    started = time.monotonic()
    result = _load(app, root)
    assert time.monotonic() - started < 20
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ignored"] == {
        "unreadable DICOM file (DICOM header too long)": 1,
        "unreadable DICOM file (DICOM preamble but a broken header)": 1}
    assert report["examples"]["unreadable DICOM file (DICOM header too long)"] == ["huge.dcm"]
