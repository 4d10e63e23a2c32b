"""RADIFOX-style names: predicted from the shared BIDS sidecars and DICOM headers, manual names
first, and the /images `name=` filter."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select

from app.models import Dataset, Image
from app.names import NameFilterError
from app.names.predict import bids_suffix, predict_name
from app.query.names import parse_name_filter

BIDS_DATASETS = ("ds001", "ds114", "synthetic", "7t_trt", "eyetracking_fmri")

# (dataset, image type, BIDS suffix) -> (expected name, number of images). Sidecars without
# sequence tags leave technique, acqdim and orientation UNK; eyetracking_fmri's say it all.
EXPECTED_BIDS_NAMES = {
    ("ds001", "T1", "T1w"): ("BRAIN-T1-UNK-UNK-UNK-PRE", 16),
    ("ds114", "T1", "T1w"): ("BRAIN-T1-UNK-UNK-UNK-PRE", 20),
    ("ds114", "DWI", "dwi"): ("BRAIN-DIFF-EPI-2D-UNK-PRE", 20),
    ("synthetic", "T1", "T1w"): ("BRAIN-T1-UNK-UNK-UNK-PRE", 10),
    ("synthetic", "rsfMRI", "bold"): ("BRAIN-T2STAR-EPI-2D-UNK-PRE", 10),
    ("7t_trt", "T1", "T1w"): ("BRAIN-T1-UNK-UNK-UNK-PRE", 22),
    ("7t_trt", "rsfMRI", "bold"): ("BRAIN-T2STAR-EPI-2D-UNK-PRE", 132),
    ("7t_trt", "FieldMap", "magnitude1"): ("BRAIN-T2STAR-UNK-UNK-UNK-PRE-ECHO1-MAG", 88),
    ("7t_trt", "FieldMap", "magnitude2"): ("BRAIN-T2STAR-UNK-UNK-UNK-PRE-ECHO2-MAG", 87),
    ("7t_trt", "FieldMap", "phasediff"): ("BRAIN-T2STAR-UNK-UNK-UNK-PRE-PHA", 88),
    # GR_IR + SK_SP_MP, 3D, sagittal cosines: an MPRAGE.
    ("eyetracking_fmri", "T1", "T1w"): ("BRAIN-T1-IRSPGR-3D-SAGITTAL-PRE", 1),
    ("eyetracking_fmri", "rsfMRI", "bold"): ("BRAIN-T2STAR-EPI-2D-AXIAL-PRE", 2),
    # Spin-echo EPI (epse2d1) TOPUP pairs: T2-weighted.
    ("eyetracking_fmri", "FieldMap", "epi"): ("BRAIN-T2-EPI-2D-AXIAL-PRE-MAG", 2),
    ("eyetracking_fmri", "FieldMap", "fieldmap"): ("BRAIN-T2-EPI-2D-AXIAL-PRE-FIELDMAP", 1),
    ("eyetracking_fmri", "FieldMap", "magnitude"): ("BRAIN-T2STAR-UNK-UNK-UNK-PRE-MAG", 1),
}

# DICOM series of shared/data/dicom, from the header values its expected.json records
# (SeriesDescription, ProtocolName, ImageType), as the DICOM adapter stores them.
EXPECTED_DICOM_NAMES = {
    "dcm_qa_xa30/5_anat-T1w_acq-tfl": ("T1", "BRAIN-T1-IRSPGR-UNK-UNK-PRE"),
    "dcm_qa_ge/01_Ax_DWI_TENSOR_R2": ("DWI", "BRAIN-DIFF-EPI-2D-AXIAL-PRE"),
    "dcm_qa_xa30/10_DWI_dir80_PA": ("DWI", "BRAIN-DIFF-EPI-2D-UNK-PRE"),
    "dcm_qa_nih/20180918GE/mr_0004": ("rsfMRI", "BRAIN-T2STAR-EPI-2D-AXIAL-PRE"),  # BOLD
    "dcm_qa_xa30/8_gre_field_mapping": ("FieldMap", "BRAIN-T2STAR-GRE-UNK-UNK-PRE-MAG"),
    "dcm_qa_xa30/9_gre_field_mapping": ("FieldMap", "BRAIN-T2STAR-GRE-UNK-UNK-PRE-PHA"),
    "dcm_qa_fmap/Siemens/3_gre_field_magph": ("FieldMap", "BRAIN-T2STAR-GRE-UNK-UNK-PRE-PHA"),
}


# The same series loaded by `flask load-dicom` (the adapter keeps the header values that name
# them; it stores no task fMRI, so the BOLD series is not among them).
EXPECTED_LOADED_DICOM_NAMES = {
    "DCM/dcm_qa_xa30/5_anat-T1w_acq-tfl": "BRAIN-T1-IRSPGR-3D-UNK-PRE",
    "DCM/dcm_qa_ge/01_Ax_DWI_TENSOR_R2": "BRAIN-DIFF-EPI-2D-AXIAL-PRE",
    "DCM/dcm_qa_xa30/10_DWI_dir80_PA": "BRAIN-DIFF-EPI-2D-UNK-PRE",
    "DCM/dcm_qa_xa30/8_gre_field_mapping": "BRAIN-T2STAR-GRE-2D-UNK-PRE-MAG",
    "DCM/dcm_qa_xa30/9_gre_field_mapping": "BRAIN-T2STAR-GRE-2D-UNK-PRE-PHA",
    # GR with SP(oiled) in the header, phase images (P).
    "DCM/dcm_qa_fmap/Siemens/3_gre_field_magph": "BRAIN-T2STAR-SPGR-2D-UNK-PRE-PHA",
}


def test_dicom_headers_get_the_expected_names(shared_data):
    headers = json.loads((shared_data / "dicom" / "expected.json").read_text())
    predicted = {series: (hint, predict_name(headers[series], hint))
                 for series, (hint, _) in EXPECTED_DICOM_NAMES.items()}
    assert predicted == EXPECTED_DICOM_NAMES


@pytest.mark.parametrize("header, hint, name", [
    ({"ScanningSequence": "GR\\IR", "SequenceVariant": "SP\\MP", "MRAcquisitionType": "3D",
      "ImageOrientationPatient": [1, 0, 0, 0, 1, 0], "SeriesDescription": "MPRAGE"},
     "T1", "BRAIN-T1-IRSPGR-3D-AXIAL-PRE"),
    ({"ScanningSequence": "SE", "SequenceName": "*tse2d1_15", "MRAcquisitionType": "2D",
      "ImageOrientationPatient": [0, 1, 0, 0, 0, -1], "SeriesDescription": "T2 post gad",
      "BodyPartExamined": "CSPINE"}, None, "CSPINE-T2-FSE-2D-SAGITTAL-POST"),
    ({"SeriesDescription": "cor flair", "ContrastBolusAgent": "Gadavist"}, None,
     "BRAIN-FLAIR-UNK-UNK-CORONAL-POST"),
    ({"DiffusionBValue": 1000}, None, "BRAIN-DIFF-UNK-UNK-UNK-PRE"),
    (None, None, "BRAIN-UNK-UNK-UNK-UNK-PRE"),
])
def test_predictions_from_header_values(header, hint, name):
    assert predict_name(header, hint) == name


@pytest.mark.parametrize("text, conditions", [
    ("modality=T1;acqdim=3D", {"modality": "T1", "acqdim": "3D"}),
    ("modality=t1", {"modality": "T1"}),
    (" orientation = axial ", {"orientation": "AXIAL"}),
])
def test_filters_parse(text, conditions):
    assert parse_name_filter(text) == conditions


@pytest.mark.parametrize("text", ["modality", "colour=RED", "modality=T1;", "modality=T-1",
                                  "modality=T1;modality=T2", ""])
def test_bad_filters_are_refused(text):
    with pytest.raises(NameFilterError):
        parse_name_filter(text)


@pytest.fixture
def shared_bids(app, session, shared_data):
    runner = app.test_cli_runner()
    for name in BIDS_DATASETS:
        result = runner.invoke(args=["load-bids", str(shared_data / "bids" / name),
                                     "--dataset", name, "--register"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["names", name])
        assert result.exit_code == 0, result.output
    session.expire_all()


def test_loaded_dicom_series_get_the_expected_names(app, session, client, auth_headers,
                                                    shared_data):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["load-dicom", str(shared_data / "dicom"), "--dataset", "DCM",
                                 "--register", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["names", "DCM"]).exit_code == 0
    session.expire_all()
    assert dict(session.execute(select(Image.path, Image.predicted_name)).all()) == (
        EXPECTED_LOADED_DICOM_NAMES)
    field_maps = client.get("/api/v1/images", headers=auth_headers, query_string={
        "name": "modality=T2STAR;acqdim=2D"}).get_json()["items"]
    assert sorted(item["path"] for item in field_maps) == sorted(
        path for path, name in EXPECTED_LOADED_DICOM_NAMES.items() if "-T2STAR-" in name)


def images_by_name(session) -> dict[int, str]:
    return dict(session.execute(select(Image.id, Image.predicted_name)).all())


def test_shared_bids_images_get_the_expected_names(session, shared_bids):
    rows = session.execute(select(Dataset.designation, Image.type, Image.path,
                                  Image.predicted_name).join(Dataset)).all()
    found = Counter((row.designation, str(row.type), bids_suffix(row.path), row.predicted_name)
                    for row in rows)
    assert found == Counter({(*key, name): count
                             for key, (name, count) in EXPECTED_BIDS_NAMES.items()})


@pytest.mark.parametrize("name_filter, components", [
    ("modality=T1", {1: "T1"}),
    ("modality=T1;acqdim=3D", {1: "T1", 3: "3D"}),
    ("modality=DIFF", {1: "DIFF"}),
    ("modality=T2STAR;technique=EPI", {1: "T2STAR", 2: "EPI"}),
    ("technique=EPI;modality=T2", {1: "T2", 2: "EPI"}),
    ("excontrast=POST", {5: "POST"}),
])
def test_the_name_filter_returns_exactly_the_named_images(
        client, session, auth_headers, shared_bids, name_filter, components):
    expected = sorted(id_ for id_, name in images_by_name(session).items()
                      if all(name.split("-")[at] == value for at, value in components.items()))
    response = client.get("/api/v1/images", headers=auth_headers,
                          query_string={"name": name_filter, "per_page": 1000})
    assert response.status_code == 200, response.get_json()
    assert [item["id"] for item in response.get_json()["items"]] == expected
    assert response.get_json()["total"] == len(expected)


def test_manual_names_win_and_both_are_kept(app, client, session, auth_headers, shared_bids,
                                            tmp_path):
    t1 = session.scalar(select(Image).join(Dataset).where(Dataset.designation == "ds001")
                        .order_by(Image.id))
    manual = tmp_path / "names.csv"
    manual.write_text(f"path,name\n{t1.path},BRAIN-T1-IRSPGR-3D-SAGITTAL-PRE\n")
    result = app.test_cli_runner().invoke(args=["names", "ds001", "--manual", str(manual)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "predicted names changed: 0, manual names set: 1"
    detail = client.get(f"/api/v1/images/{t1.id}", headers=auth_headers).get_json()
    assert (detail["name"], detail["predicted_name"], detail["manual_name"]) == (
        "BRAIN-T1-IRSPGR-3D-SAGITTAL-PRE", "BRAIN-T1-UNK-UNK-UNK-PRE",
        "BRAIN-T1-IRSPGR-3D-SAGITTAL-PRE")
    sagittal_t1 = client.get("/api/v1/images", headers=auth_headers, query_string={
        "name": "modality=T1;orientation=SAGITTAL"}).get_json()["items"]
    assert sorted(item["subject_external_id"] for item in sagittal_t1) == sorted(
        [t1.subject.external_id, "01"])


def test_bad_name_filters_and_files_are_refused(app, client, session, auth_headers,
                                                shared_bids, tmp_path):
    response = client.get("/api/v1/images", headers=auth_headers,
                          query_string={"name": "colour=RED"})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["name"]
    bad = tmp_path / "names.csv"
    bad.write_text("path,name\nsub-01/anat/nothing.nii.gz,BRAIN-T1-UNK-UNK-UNK-PRE\n")
    before = images_by_name(session)
    result = app.test_cli_runner().invoke(args=["names", "ds001", "--manual", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}, row 2, column 'path'" in result.output
    bad.write_text("path,name\nx,T1\n")
    result = app.test_cli_runner().invoke(args=["names", "ds001", "--manual", str(bad)])
    assert result.exit_code == 2 and f"{bad}, row 2, column 'name'" in result.output
    session.expire_all()
    assert images_by_name(session) == before
