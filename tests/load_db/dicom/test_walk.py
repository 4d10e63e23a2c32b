"""The byte walk of DICOM headers reads what pydicom reads, and knows what it cannot read."""
from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from load_db.dicom.headers import first_number
from load_db.dicom.walk import BINARY, SCANNED, NotDicom, Unsupported, walk_header


def _pydicom_values(dataset: pydicom.Dataset) -> dict:
    """The SCANNED values as pydicom reads them, in the walk's types."""
    values = {}
    for tag, keyword in SCANNED.items():
        if tag not in dataset:
            continue
        value = dataset[tag].value
        if keyword in BINARY or not dataset[tag].keyword:
            values[keyword] = first_number(value)
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            values[keyword] = "\\".join(str(item) for item in value)
        else:
            values[keyword] = str(value).strip()
    return values


def _walked(data: bytes) -> dict:
    values, _, _ = walk_header(io.BytesIO(data))
    return {key: first_number(value) if key == "SiemensBValue" else value
            for key, value in values.items()}


def test_the_walk_reads_every_shared_file_as_pydicom_does(corpus):
    files = [f for f in sorted(corpus.rglob("*")) if f.is_file()
             and f.read_bytes()[128:132] == b"DICM"]
    assert len(files) == 233
    for file in files:
        expected = _pydicom_values(pydicom.dcmread(file, stop_before_pixels=True))
        assert _walked(file.read_bytes()) == expected, file


def _rewritten(file: Path, syntax, change=None) -> bytes:
    """The header of `file` (no pixels) written again in another transfer syntax."""
    dataset = pydicom.dcmread(file, stop_before_pixels=True)
    if change:
        change(dataset)
    dataset.file_meta.TransferSyntaxUID = syntax
    out = io.BytesIO()
    # force_encoding: pydicom would refuse to change the endianness of a dataset it read.
    dcmwrite(out, dataset, implicit_vr=syntax == ImplicitVRLittleEndian,
             little_endian=syntax != ExplicitVRBigEndian, force_encoding=True)
    return out.getvalue()


def test_implicit_vr_and_undefined_length_sequences_are_walked(corpus):
    file = next((corpus / "dcm_qa_fmap/Siemens/3_gre_field_magph").iterdir())

    def nested(dataset):
        inner = pydicom.Dataset()
        inner.CodeValue = "X"
        inner.ContentSequence = Sequence([pydicom.Dataset()])
        dataset.ReferencedImageSequence = Sequence([inner, pydicom.Dataset()])
        dataset["ReferencedImageSequence"].is_undefined_length = True
        for item in dataset.ReferencedImageSequence:
            item.is_undefined_length_sequence_item = True

    data = _rewritten(file, ImplicitVRLittleEndian, nested)
    walked = _walked(data)
    assert walked == _pydicom_values(pydicom.dcmread(io.BytesIO(data)))
    assert (walked["PatientID"], walked["Rows"], "SiemensBValue" in walked) == ("crlab", 64, False)


def test_big_endian_is_left_to_pydicom_and_a_file_without_dicm_is_not_dicom(corpus):
    file = next((corpus / "dcm_qa_fmap/Siemens/3_gre_field_magph").iterdir())
    with pytest.raises(Unsupported):
        walk_header(io.BytesIO(_rewritten(file, ExplicitVRBigEndian)))
    with pytest.raises(NotDicom):
        walk_header(io.BytesIO(b"\0" * 200 + b"hello"))
    with pytest.raises(Unsupported):  # ends inside the preamble
        walk_header(io.BytesIO(b"\0" * 20))
