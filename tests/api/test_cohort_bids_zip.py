"""GET /cohorts/{id}/bids.zip and an image's download with ?sidecars=true on both storage
backends: the zip's exact files, a DICOM series left out and named, gradient files by BIDS
inheritance, the audit entry."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from app.models import AuditAction, AuditEvent, ImageFile, ImageType, Scope, Sex
from app.storage import get_storage
from load_file.upload import upload_tree
from tests.support.factories import (
    bearer,
    make_api_key,
    make_dataset,
    make_image,
    make_subject,
    make_visit,
)
from tests.support.files import write_tree

pytestmark = pytest.mark.storage("each")

API = "/api/v1"
T1 = b"\x1f\x8b T1 image bytes"
DWI = b"\x1f\x8b DWI image bytes"
BVAL = b"0 1000 1000\n"
BVEC = b"0 1 0\n0 0 1\n0 0 0\n"
TREE = {
    "dwi.bval": BVAL,  # at the top: inherited by every DWI
    "sub-01/dwi.bvec": BVEC,
    "sub-01/ses-a/anat/sub-01_ses-a_T1w.nii.gz": T1,
    "sub-01/ses-a/anat/sub-01_ses-a_T1w.json": b'{"RepetitionTime": 2.3, "Manufacturer": "GE"}',
    "T1w.json": b'{"Manufacturer": "Siemens", "MagneticFieldStrength": 3}',
    "sub-01/ses-a/dwi/sub-01_ses-a_dwi.nii.gz": DWI,
    "dicom/series1/1.dcm": b"DICM 1",
}


def test_a_cohort_zip_is_its_bids_dataset_and_an_image_comes_with_its_sidecars(
        client, session, tmp_path):
    dataset = make_dataset(session, designation="Tiny")
    upload_tree(get_storage(), write_tree(tmp_path / "tiny", TREE), "Tiny", progress=False)
    subject = make_subject(session, dataset=dataset, external_id="sub-01", sex=Sex.FEMALE,
                           age_at_baseline=70.0)
    visit = make_visit(session, subject=subject, external_id="a", days_since_baseline=365)
    t1 = make_image(session, subject=subject, visit=visit,
                    path="Tiny/sub-01/ses-a/anat/sub-01_ses-a_T1w.nii.gz")
    dwi = make_image(session, subject=subject, visit=visit, type=ImageType.DWI,
                     path="Tiny/sub-01/ses-a/dwi/sub-01_ses-a_dwi.nii.gz")
    series = make_image(session, subject=subject, visit=visit, path="Tiny/dicom/series1")
    session.add(ImageFile(image_id=series.id, key="Tiny/dicom/series1/1.dcm", size=6))
    _, token = make_api_key(session, name="tiny", scopes=[Scope.READ, Scope.WRITE,
                                                          Scope.DOWNLOAD])
    session.commit()
    headers = bearer(token)
    cohort = client.post(f"{API}/cohorts", headers=headers, json={
        "name": "tiny", "query": {"dataset": "Tiny"}}).get_json()

    response = client.get(f"{API}/cohorts/{cohort['id']}/bids.zip", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="cohort-{cohort["id"]}-bids.zip"')
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    folder = "sub-Tiny01/ses-a"
    assert sorted(archive.namelist()) == sorted([
        "README", "dataset_description.json", "participants.json", "participants.tsv",
        "sub-Tiny01/sub-Tiny01_sessions.json", "sub-Tiny01/sub-Tiny01_sessions.tsv",
        f"{folder}/anat/sub-Tiny01_ses-a_T1w.json", f"{folder}/anat/sub-Tiny01_ses-a_T1w.nii.gz",
        f"{folder}/dwi/sub-Tiny01_ses-a_dwi.bval", f"{folder}/dwi/sub-Tiny01_ses-a_dwi.bvec",
        f"{folder}/dwi/sub-Tiny01_ses-a_dwi.nii.gz"])
    assert archive.read(f"{folder}/anat/sub-Tiny01_ses-a_T1w.nii.gz") == T1
    assert archive.read(f"{folder}/dwi/sub-Tiny01_ses-a_dwi.nii.gz") == DWI
    assert archive.read(f"{folder}/dwi/sub-Tiny01_ses-a_dwi.bval") == BVAL
    assert archive.read(f"{folder}/dwi/sub-Tiny01_ses-a_dwi.bvec") == BVEC
    # The top sidecar, then the image's own (which wins), with sorted keys.
    assert archive.read(f"{folder}/anat/sub-Tiny01_ses-a_T1w.json") == (
        b'{\n  "MagneticFieldStrength": 3,\n  "Manufacturer": "GE",\n'
        b'  "RepetitionTime": 2.3\n}\n')
    assert archive.read("participants.tsv") == (
        b"participant_id\tdataset\tsource_participant_id\tsex\tage\tcondition\n"
        b"sub-Tiny01\tTiny\tsub-01\tfemale\t70\tn/a\n")
    assert archive.read("sub-Tiny01/sub-Tiny01_sessions.tsv") == (
        b"session_id\tsource_session_id\tdays_since_baseline\tage\n"
        b"ses-a\ta\t365\t71\n")
    assert (f"- image {series.id} (Tiny: Tiny/dicom/series1): no NIfTI file (a DICOM series "
            "not converted yet)") in archive.read("README").decode()
    description = json.loads(archive.read("dataset_description.json"))
    assert description["Name"] == f"MBID-db cohort {cohort['id']}: tiny"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == AuditAction.DOWNLOAD).order_by(AuditEvent.id.desc())).first()
    assert (event.key_name, sorted(event.image_ids)) == ("tiny", sorted([t1.id, dwi.id]))

    # One image with its sidecars: streamed as a zip on every backend.
    response = client.get(f"{API}/images/{dwi.id}/download?sidecars=true", headers=headers)
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert {name: bundle.read(name) for name in bundle.namelist()} == {
        "sub-01_ses-a_dwi.nii.gz": DWI, "sub-01_ses-a_dwi.bval": BVAL,
        "sub-01_ses-a_dwi.bvec": BVEC}
    assert client.get(f"{API}/images/{dwi.id}/download?sidecars=maybe",
                      headers=headers).status_code == 400
    # A cohort of another key, or none, is a 404.
    assert client.get(f"{API}/cohorts/{cohort['id'] + 1}/bids.zip",
                      headers=headers).status_code == 404
