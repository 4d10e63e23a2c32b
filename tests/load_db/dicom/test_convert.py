"""`flask convert` on the nine real series of ../shared/data/dicom: a NIfTI for every stored
series with the dimensions, voxel sizes and diffusion volumes its DICOM headers give, outputs
recorded with provenance, dcm2niix's typing evidence kept, downloads and previews from the
NIfTI, and a second run that converts nothing. Each backend pair converts the corpus once."""
from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.files.converted import converted_files
from app.models import ConvertedFile, Image
from app.processing.provenance import verify
from app.storage import get_storage
from load_file.upload import upload_tree
from tests.support.apps import fetch_download_url

pytestmark = pytest.mark.storage("each")

NOT_DICOM = (".txt", ".md", ".json")
DWI = ("dcm_qa_ge/01_Ax_DWI_TENSOR_R2", "dcm_qa_xa30/10_DWI_dir80_PA")
# dcm2niix's BidsGuess for each stored series of the corpus and the type it points at (None:
# no stored type; the GE tensor series is guessed "derived", not what the rules say).
GUESSES = {
    "dcm_qa_fmap/Siemens/3_gre_field_magph": (["fmap", "_acq-fm2_phasediff"], "FieldMap"),
    "dcm_qa_ge/01_Ax_DWI_TENSOR_R2": (["derived", "_TENSOR"], None),
    "dcm_qa_xa30/10_DWI_dir80_PA": (["dwi", "_acq-epse2_dir-PA_run-10_dwi"], "DWI"),
    "dcm_qa_xa30/5_anat-T1w_acq-tfl": (["anat", "_acq-tfl3p2_run-5_T1w"], "T1"),
    "dcm_qa_xa30/8_gre_field_mapping": (["fmap", "_acq-fm2_magnitude1"], "FieldMap"),
    "dcm_qa_xa30/9_gre_field_mapping": (["fmap", "_acq-fm2_phasediff"], "FieldMap"),
}


def geometry(folder: Path) -> dict:
    """Rows, Columns, slices, volumes, pixel spacing and slice spacing of a series, from its
    DICOM headers (classic files or enhanced frames): read here with pydicom, not by the
    code under test."""
    headers = [pydicom.dcmread(path) for path in sorted(folder.iterdir())
               if not path.name.endswith(NOT_DICOM)]
    first = headers[0]
    frames = [(header, frame) for header in headers
              for frame in header.get("PerFrameFunctionalGroupsSequence") or [None]]
    shared = (first.get("SharedFunctionalGroupsSequence") or [None])[0]

    def value(frame, group: str, keyword: str):
        for source in (frame, shared):
            if source is not None and group in source and keyword in source[group][0]:
                return source[group][0][keyword].value
        return None

    positions, orientation, spacing = [], None, None
    for header, frame in frames:
        position = value(frame, "PlanePositionSequence", "ImagePositionPatient") \
            or header.ImagePositionPatient
        orientation = value(frame, "PlaneOrientationSequence", "ImageOrientationPatient") \
            or header.ImageOrientationPatient
        spacing = value(frame, "PixelMeasuresSequence", "PixelSpacing") or header.PixelSpacing
        positions.append(tuple(float(item) for item in position))
    normal = np.cross(np.array(orientation[:3], float), np.array(orientation[3:], float))
    per_position = Counter(positions)
    depths = sorted({round(float(np.dot(normal, point)), 4) for point in per_position})
    return {"rows": int(first.Rows), "columns": int(first.Columns), "slices": len(depths),
            "volumes": len(frames) // len(depths),
            "pixel": sorted(float(item) for item in spacing),
            "between": float(np.median(np.diff(depths))) if len(depths) > 1 else None}


def sha256_listing(folder: Path) -> str:
    """The `sha256sum` listing checksum of a series' DICOM files, names sorted."""
    lines = "".join(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
                    for path in sorted(folder.iterdir(), key=lambda p: p.name)
                    if not path.name.endswith(NOT_DICOM))
    return hashlib.sha256(lines.encode()).hexdigest()


def nifti(storage, key: str) -> nib.Nifti1Image:
    return nib.Nifti1Image.from_bytes(gzip.decompress(storage.read(key)))


def test_convert_writes_a_nifti_per_stored_series_that_matches_its_headers(
        app, seeded, corpus, auth_headers, client):
    storage = get_storage()
    expected = json.loads((corpus / "expected.json").read_text())
    stored = sorted(folder for folder, series in expected.items() if series["type"] != "other")
    for folder in stored:  # only what is converted: the series the load stores
        upload_tree(storage, corpus / folder, f"X/{folder}", progress=False)
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["load-dicom", str(corpus), "--dataset", "X", "--register",
                                 "--workers", "1"])
    assert loaded.exit_code == 0, loaded.output

    result = runner.invoke(args=["convert", "X", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["converted"], report["already_converted"], report["failed"]) == (6, 0, [])

    images = {image.path.removeprefix("X/"): image for image in db.session.scalars(select(Image))}
    assert sorted(images) == stored
    files = converted_files(db.session, [image.id for image in images.values()])
    for folder in stored:
        image, header = images[folder], geometry(corpus / folder)
        roles = files[image.id]
        # The outputs lie beside the series, under the dataset's prefix.
        assert roles["nifti"] == f"X/{folder}.nii.gz" and roles["sidecar"] == f"X/{folder}.json"
        niftis = [nifti(storage, key) for role, key in sorted(roles.items())
                  if role.split(":")[0] == "nifti"]
        volume = niftis[0]
        shape, zooms = volume.shape, volume.header.get_zooms()
        assert sorted(shape[:3]) == sorted([header["rows"], header["columns"],
                                            header["slices"]]), folder
        assert sorted(round(float(z), 4) for z in zooms[:3]) == sorted(
            round(item, 4) for item in [*header["pixel"], header["between"]]), folder
        # Every volume the headers hold is in one of the outputs (echoes are written apart).
        assert sum(item.shape[3] if len(item.shape) > 3 else 1 for item in niftis) == \
            header["volumes"], folder
        if folder in DWI:
            bvals = storage.read_text(roles["bval"]).split()
            bvecs = [line.split() for line in storage.read_text(roles["bvec"]).splitlines()]
            assert len(bvals) == header["volumes"] == shape[3]
            assert [len(line) for line in bvecs] == [header["volumes"]] * 3
        else:
            assert not {"bval", "bvec"} & set(roles)
        # Provenance: dcm2niix's version and options, the input set's and outputs' SHA-256.
        rows = db.session.scalars(select(ConvertedFile).where(
            ConvertedFile.image_id == image.id)).all()
        record = rows[0].provenance
        assert all(row.provenance == record for row in rows)
        assert record["parameters"]["dcm2niix_version"] == "1.0.20260724"
        assert record["parameters"]["options"] == ["-b", "y", "-ba", "y", "-z", "y", "-f",
                                                   "image"]
        assert record["parameters"]["input_file_set_sha256"] == sha256_listing(corpus / folder)
        for row in rows:
            content = storage.read(row.key)
            assert (row.size, row.sha256) == (len(content), hashlib.sha256(content).hexdigest())
        full = json.loads(storage.read(record["prov_key"]))
        assert full["id"] == record["id"] and len(full["inputs"]) == \
            expected[folder]["n_dicom_files"]
        assert verify(storage, full)["valid"]
        # The typing evidence: the header rule, and what dcm2niix says beside it.
        guess, guessed = GUESSES[folder]
        evidence = image.metadata_json["dcm2niix"]
        assert image.metadata_json["rule"] and image.type.value == expected[folder]["type"]
        assert evidence["sidecar"]["BidsGuess"] == guess
        assert (evidence["guessed_type"], evidence["agrees"]) == (
            guessed, guessed == image.type.value)
    # Both field-map magnitudes (two echoes of one series, one image) are kept.
    fieldmap = files[images["dcm_qa_xa30/8_gre_field_mapping"].id]
    assert fieldmap["nifti:e2"] == "X/dcm_qa_xa30/8_gre_field_mapping_e2.nii.gz"
    assert report["guess_disagrees_with_rules"] == [{
        "image_id": images[DWI[0]].id, "path": f"X/{DWI[0]}", "type": "DWI",
        "BidsGuess": ["derived", "_TENSOR"]}]

    # The typing evidence is queryable per image, as the rule was.
    t1 = images["dcm_qa_xa30/5_anat-T1w_acq-tfl"]
    answer = client.get(f"/api/v1/images/{t1.id}", headers=auth_headers).get_json()
    assert answer["metadata_json"]["dcm2niix"]["guessed_type"] == "T1"
    # A download serves the NIfTI, a preview is drawn from it.
    download = client.get(f"/api/v1/images/{t1.id}/download", headers=auth_headers)
    body = (fetch_download_url(client, download.headers["Location"], auth_headers)
            if download.status_code == 302 else download.get_data())
    assert body == storage.read("X/dcm_qa_xa30/5_anat-T1w_acq-tfl.nii.gz")
    previews = runner.invoke(args=["previews", "X"])
    assert previews.exit_code == 0 and "previews made: 6, already present: 0, failed: 0" in \
        previews.output, previews.output
    png = client.get(f"/api/v1/images/{t1.id}/preview.png", headers=auth_headers)
    assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"

    # A load again writes the header's metadata: a second run converts nothing and puts
    # dcm2niix's evidence back. A dataset that does not exist is exit code 2.
    reloaded = runner.invoke(args=["load-dicom", str(corpus), "--dataset", "X", "--workers",
                                   "1"])
    assert reloaded.exit_code == 0, reloaded.output
    db.session.expire_all()
    assert "dcm2niix" not in db.session.get(Image, t1.id).metadata_json
    again = runner.invoke(args=["convert", "X", "--json"])
    assert again.exit_code == 0, again.output
    assert {key: json.loads(again.output)[key] for key in (
        "converted", "already_converted", "evidence_restored")} == {
        "converted": 0, "already_converted": 6, "evidence_restored": 6}
    db.session.expire_all()
    assert db.session.get(Image, t1.id).metadata_json["dcm2niix"]["guessed_type"] == "T1"
    assert db.session.scalar(select(func.count()).select_from(ConvertedFile)) == len(
        [role for roles in files.values() for role in roles])
    missing = runner.invoke(args=["convert", "NOPE"])
    assert missing.exit_code == 2 and "no dataset 'NOPE' (known: " in missing.output
