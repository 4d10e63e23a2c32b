"""dcm2niix's outputs matched to the image, its BidsGuess read as a type, and its failures:
the pure part of the conversion, without a database."""
from __future__ import annotations

from pathlib import Path

import pytest

from load_db.dicom.dcm2niix import ConversionError, Output, convert, evidence, guessed_type, match


@pytest.mark.parametrize(("guess", "kind"), [
    (["anat", "_acq-tfl3p2_run-5_T1w"], "T1"),
    (["anat", "_T2w"], None),
    (["dwi", "_acq-epse2_dir-PA_run-10_dwi"], "DWI"),
    (["fmap", "_acq-fm2_phasediff"], "FieldMap"),
    (["fmap", "_acq-fm2_magnitude1"], "FieldMap"),
    (["fmap", "_dir-AP_epi"], "FieldMap"),
    (["func", "_task-rest_dir-AP_bold"], "rsfMRI"),
    (["func", "_acq-EPI_dir-AP_run-4_bold"], None),
    (["func", "_task-restless_bold"], None),
    (["derived", "_TENSOR"], None),
    (["perf", "_asl"], None),
    ("anat", None),
    ([1, 2], None),
])
def test_a_bids_guess_points_at_a_type(guess, kind):
    assert guessed_type(guess) == kind


def test_evidence_says_whether_the_guess_agrees_with_the_rules():
    sidecar = {"BidsGuess": ["anat", "_T1w"], "EchoTime": 0.0025, "PatientName": "kept out",
               "AcquisitionDateTime": "kept out"}
    assert evidence(sidecar, "T1") == {"sidecar": {"BidsGuess": ["anat", "_T1w"],
                                                   "EchoTime": 0.0025},
                                       "guessed_type": "T1", "agrees": True}
    assert evidence(sidecar, "DWI")["agrees"] is False
    # No guess (not every vendor gets one): no opinion either way.
    assert evidence({"EchoTime": 0.1}, "DWI") == {"sidecar": {"EchoTime": 0.1},
                                                  "guessed_type": None, "agrees": None}


def output(suffix: str, **sidecar) -> Output:
    return Output(suffix, {"nifti": Path(f"image_{suffix}.nii.gz")}, sidecar)


def test_the_output_that_fits_the_image_is_its_own():
    magnitude = output("e1", EchoNumber=1, ImageType=["ORIGINAL", "PRIMARY", "M"])
    second = output("e2", EchoNumber=2, ImageType=["ORIGINAL", "PRIMARY", "M"])
    phase = output("e2_ph", EchoNumber=2, ImageType=["ORIGINAL", "PRIMARY", "P", "PHASE"])
    one = match([magnitude], {})
    assert (one.primary, one.others, one.note) == (magnitude, [], "one output")
    # A part of the series (echo 2, phase) picks its own output among several.
    picked = match([magnitude, second, phase], {"EchoNumbers": 2, "ImageType": ["P"]})
    assert (picked.primary, picked.others) == (phase, [magnitude, second])
    assert "e2_ph fits the image's echo and magnitude/phase" in picked.note
    by_echo = match([magnitude, second], {"EchoNumbers": 2, "ImageType": ["M"]})
    assert by_echo.primary is second
    # An image standing for the whole series (both magnitudes): the first is its NIfTI, the
    # others kept, and the note says why.
    whole = match([magnitude, second], {"ImageType": ["ORIGINAL", "PRIMARY", "M"]})
    assert (whole.primary, whole.others) == (magnitude, [second])
    assert whole.note == ("dcm2niix wrote 2 outputs (e1, e2) and 2 fit the image's header: "
                          "the image stands for all of them, e1 is its NIfTI, the others are "
                          "kept beside it")


def test_a_folder_without_dicom_is_a_conversion_error(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("not DICOM")
    with pytest.raises(ConversionError, match="wrote 0 NIfTI file"):
        convert(tmp_path / "in", tmp_path / "out")
