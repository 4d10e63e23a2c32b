"""Small generated DICOM files (pydicom, 2x2 pixels) and a DATMAN-named tree of them."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"


def new_instance(sop_class: str) -> Dataset:
    """An empty DICOM instance of `sop_class` with a new SOP instance UID and its file meta
    (explicit VR little endian)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    return ds


def write_series(folder: Path, session: str, description: str, number: int, *,
                 files: int = 2, study_uid: str, image_type: str = "ORIGINAL\\PRIMARY\\M",
                 echo_time: float = 3.0, repetition_time: float = 2300.0,
                 series_uid: str | None = None, echo: int | None = None, name: str = "",
                 enhanced: bool = False) -> Path:
    """Write `files` slices of one MR series named `session` (PatientID and PatientName) into
    `folder` as `<name>0001.dcm`, ...; returns the folder.

    `series_uid` makes it part of a series written before (e.g. another echo, with `echo`);
    `enhanced` writes the series as one enhanced MR file holding the `files` slices as frames.
    """
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    sop_class = ENHANCED_MR_IMAGE_STORAGE if enhanced else MR_IMAGE_STORAGE
    frames, files = (files, 1) if enhanced else (1, files)
    for index in range(files):
        ds = new_instance(sop_class)
        ds.Modality = "MR"
        ds.PatientID = session
        ds.PatientName = session
        ds.PatientSex = "F"
        ds.PatientAge = "030Y"
        ds.StudyDate = "20240102"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = number
        ds.InstanceNumber = index + 1
        ds.SeriesDescription = description
        ds.ProtocolName = description
        ds.ImageType = image_type.split("\\")
        ds.Manufacturer = "SIEMENS"
        ds.ManufacturerModelName = "Prisma"
        ds.MagneticFieldStrength = 3
        ds.ScanningSequence = "GR"
        ds.SequenceVariant = "MP"
        ds.MRAcquisitionType = "3D"
        ds.EchoTime = echo_time
        if echo is not None:
            ds.EchoNumbers = echo
        ds.RepetitionTime = repetition_time
        ds.ImagePositionPatient = [0, 0, float(index)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [1, 1]
        ds.SliceThickness = 1
        ds.Rows = ds.Columns = 2
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        if enhanced:
            ds.NumberOfFrames = frames
        ds.PixelData = bytes(8 * frames)
        ds.save_as(folder / f"{name}{index + 1:04d}.dcm", enforce_file_format=True)
    return folder


DATMAN_STUDY = """\
subject: {convention: datman}
tags:
  LOC: {ignore: localiser, SeriesDescription: "^loc", count: 1, qc_kind: ignore}
  T1:  {type: T1, SeriesDescription: ["t1w", "mprage"], count: 1, qc_kind: anat}
  DTI: {type: DWI, SeriesDescription: dti, count: 1, qc_kind: dti}
"""
# session -> [(series number, description)]: a repeated T1 (0001_01), an untagged series
# (0001_02), a missing DTI (0002_01) and a phantom.
DATMAN_SESSIONS = {
    "SPINS_CMH_0001_01_01": [(1, "localizer"), (3, "T1w MPRAGE"), (4, "T1w MPRAGE"),
                             (5, "DTI60")],
    "SPINS_CMH_0001_02_01": [(1, "localizer"), (3, "T1w MPRAGE"), (5, "DTI60"),
                             (7, "extra_survey")],
    "SPINS_CMH_0002_01_01": [(1, "localizer"), (3, "T1w MPRAGE")],
    "SPINS_CMH_PHA_FBN0001": [(3, "T1w MPRAGE")],
}


def write_datman_tree(root: Path) -> Path:
    """Write DATMAN_SESSIONS under `root` (a folder per session and series) and the study
    configuration DATMAN_STUDY beside it, as `root`.parent / "study.yaml"; returns `root`."""
    for session, series in DATMAN_SESSIONS.items():
        study_uid = generate_uid()
        for number, description in series:
            write_series(root / session / f"{number:02d}_{description}", session, description,
                         number, study_uid=study_uid)
    (root.parent / "study.yaml").write_text(DATMAN_STUDY)
    return root


def load_datman_tree(app: Flask, folder: Path, dataset: str = "SPINS") -> Path:
    """Write the DATMAN tree under `folder`/spins and load it with `flask load-dicom` into
    `dataset` (registered), with its study configuration; returns the tree's root."""
    root = write_datman_tree(folder / "spins")
    result = app.test_cli_runner().invoke(args=[
        "load-dicom", str(root), "--dataset", dataset, "--register", "--workers", "1",
        "--rules", str(folder / "study.yaml")])
    assert result.exit_code == 0, result.output
    return root
