"""Series grouping: parts of mixed series, folders holding several series, skipped files."""
from __future__ import annotations

import hashlib
import shutil

import pydicom

from load_db.dicom import read_dicom

FMAP = "dcm_qa_fmap/Siemens/3_gre_field_magph"


def test_a_series_mixing_magnitude_and_phase_is_split_into_parts(corpus, tmp_path):
    (tmp_path / "fmap").mkdir()
    for number, file in enumerate(sorted((corpus / FMAP).iterdir())):
        dataset = pydicom.dcmread(file)
        if number % 2:  # every other file becomes the first echo's magnitude
            dataset.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
            dataset.EchoNumbers = 1
        dataset.save_as(tmp_path / "fmap" / file.name, enforce_file_format=True)
    frames = read_dicom(tmp_path, storage_prefix="X", workers=1)
    parts = frames.images.set_index("path")
    assert sorted(parts.index) == ["X/fmap#type-ORIGINAL.PRIMARY.M.ND_echo-1",
                                   "X/fmap#type-ORIGINAL.PRIMARY.P.ND_echo-2"]
    assert parts["type"].tolist() == ["FieldMap", "FieldMap"]
    assert [m["NumberOfFiles"] for m in parts["metadata"]] == [18, 18]
    assert [m["ImageType"][2] for m in parts["metadata"]] == ["M", "P"]
    assert len(frames.visits) == 1


def test_a_folder_holding_several_series_names_each_by_its_uid(corpus, tmp_path):
    for name in ("8_gre_field_mapping", "9_gre_field_mapping"):
        for file in (corpus / "dcm_qa_xa30" / name).iterdir():
            shutil.copy(file, tmp_path / file.name)
    (tmp_path / ".hidden.dcm").write_bytes(b"skipped")
    (tmp_path / "notes.txt").write_text("not DICOM")
    frames = read_dicom(tmp_path, storage_prefix="X", workers=2)
    uids = sorted({str(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID)
                   for f in tmp_path.glob("0*.dcm")})
    assert sorted(frames.images["path"]) == sorted(
        f"X#series-{hashlib.sha256(uid.encode()).hexdigest()[:8]}" for uid in uids)
    assert dict(frames.report.ignored) == {"non-DICOM file skipped": 1}
    assert frames.report.examples["non-DICOM file skipped"] == ["notes.txt"]
