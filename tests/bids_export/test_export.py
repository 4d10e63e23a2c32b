"""BIDS exports of the example datasets and of a mixed cohort (OASIS + ds114 of the shared data),
written by `flask export-bids` and by GET /cohorts/{id}/bids.zip, checked by bids-validator."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from app.access.auth import grant_dataset
from app.files.converted import converted_files
from app.models import ApiKey, AuditAction, AuditEvent, Dataset, Image, ImageType, Scope
from app.storage import get_storage
from globals import DATA_DIR
from load_db.datasets import with_example_data
from load_file.upload import upload_tree
from tests.support.bids_validator import Validation
from tests.support.factories import bearer, make_api_key

pytestmark = pytest.mark.storage("local")

API = "/api/v1"
DICOM = "dicomcorpus"  # the shared DICOM corpus, loaded as a dataset of its own
GRADIENTS = (".bval", ".bvec")


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _load_and_upload(app, shared_data: Path) -> None:
    """Every example dataset, ds114 and the DICOM corpus, loaded and uploaded to the local
    store (the corpus converted too)."""
    assert _invoke(app, "seed").exit_code == 0
    assert _invoke(app, "load", "--all-examples").exit_code == 0
    for package in with_example_data():
        result = _invoke(app, "upload", package.designation, str(package.data_dir()))
        assert result.exit_code == 0, result.output
    ds114 = shared_data / "bids" / "ds114"
    result = _invoke(app, "load-bids", "ds114", str(ds114), "--register")
    assert result.exit_code == 0, result.output
    assert _invoke(app, "upload", "ds114", str(ds114)).exit_code == 0
    # The shared DICOM corpus, its stored series uploaded, loaded and converted by dcm2niix.
    corpus = shared_data / "dicom"
    expected = json.loads((corpus / "expected.json").read_text())
    for folder, series in expected.items():
        if series["type"] != "other":
            upload_tree(get_storage(), corpus / folder, f"{DICOM}/{folder}", progress=False)
    result = _invoke(app, "load-dicom", DICOM, str(corpus), "--register", "--workers", "1")
    assert result.exit_code == 0, result.output
    result = _invoke(app, "convert", DICOM, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["failed"] == [], result.output


def _metadata_files(folder: Path) -> dict[str, bytes]:
    """{path: bytes} of an export's files other than images and gradient tables."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.endswith((".nii", ".nii.gz", *GRADIENTS))}


def _has_gradients(image: Path, top: Path) -> bool:
    """Whether a DWI example has a .bval beside it or in a folder above it, up to `top` (the
    dataset folder), named like it or like the dataset-wide dwi.bval."""
    stem = image.name.removesuffix(".nii.gz")
    folders = [image.parent, *[parent for parent in image.parents if top in parent.parents or
                               parent == top]]
    return any((folder / f"{stem}.bval").is_file() or any(folder.glob("*dwi.bval"))
               for folder in folders)


def _has_repetition_time(image: Path, top: Path) -> bool:
    """Whether a BOLD example's own JSON sidecar, or a bold.json in a folder above it up to
    `top`, gives RepetitionTime."""
    own = image.with_name(image.name.removesuffix(".nii.gz") + ".json")
    above = [json_file for parent in image.parents if parent == top or top in parent.parents
             for json_file in parent.glob("*bold.json")]
    return any("RepetitionTime" in json.loads(path.read_text())
               for path in [own, *above] if path.is_file())


def _tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def test_exports_are_valid_bids_with_the_cohorts_participants_and_gradients(
        app, client, session, shared_data, tmp_path):
    _load_and_upload(app, shared_data)
    # The example datasets of MR studies, each exported as a query (OMI-DB's mammograms have
    # no BIDS datatype: every one is left out, and said so).
    exports = {package.designation: tmp_path / package.data_folder
               for package in with_example_data() if package.designation != "OMI-DB"}
    mammograms = json.loads(_invoke(app, "export-bids", "dataset=OMI-DB",
                                    str(tmp_path / "OMI-DB"), "--json").output)
    assert mammograms["images"] == 0 and len(mammograms["left_out"]) == 32
    for name, folder in exports.items():
        result = _invoke(app, "export-bids", f"dataset={name}", str(folder), "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary["name"] == f"MBID-db query: dataset={name}"
        # Left out and said so: a DWI whose example has no gradient tables beside it (or
        # above it, BIDS inheritance); nothing else.
        # ... and a resting-state run whose sidecars give no RepetitionTime.
        prefix = session.scalar(select(Dataset.storage_prefix).where(Dataset.designation == name))
        source = DATA_DIR / folder.name

        paths = {image_type: [(path, source / path.removeprefix(f"{prefix}/"))
                              for path in session.scalars(select(Image.path).join(Dataset).where(
                                  Dataset.designation == name, Image.type == image_type))]
                 for image_type in (ImageType.DWI, ImageType.RSFMRI)}
        expected = {(path, "a DWI without .bval/.bvec files")
                    for path, file in paths[ImageType.DWI] if not _has_gradients(file, source)}
        expected |= {(path, "a functional run whose sidecar gives no RepetitionTime (BIDS "
                      "requires it)") for path, file in paths[ImageType.RSFMRI]
                     if not _has_repetition_time(file, source)}
        assert {(item["path"], item["reason"]) for item in summary["left_out"]} == expected, name
        assert summary["images"] == len(list(folder.rglob("*.nii.gz")))
    examples = Validation(list(exports.values()))  # runs while the test goes on

    # A mixed cohort, as a zip from the API.
    _, token = make_api_key(session, name="researcher",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    headers = bearer(token)
    cohort = client.post(f"{API}/cohorts", headers=headers, json={
        "name": "mixed", "query": {"dataset": ["OASIS", "ds114", DICOM]}}).get_json()
    response = client.get(f"{API}/cohorts/{cohort['id']}/bids.zip", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    mixed = exports["mixed"] = tmp_path / "mixed"
    zipfile.ZipFile(io.BytesIO(response.get_data())).extractall(mixed)

    mixed_validation = Validation([mixed])

    # dataset_description.json names the cohort and its manifest's SHA-256.
    description = json.loads((mixed / "dataset_description.json").read_text())
    assert description["Name"] == f"MBID-db cohort {cohort['id']}: mixed"
    assert (description["BIDSVersion"], description["DatasetType"]) == ("1.8.0", "raw")
    assert description["GeneratedBy"][0]["Name"] == "MBID-db"
    assert cohort["manifest_sha256"] in description["GeneratedBy"][0]["Description"]

    # participants.tsv: the API's subjects of the cohort's images, with their study and id
    # kept as columns; a subject all of whose images were left out (the corpus' field-map
    # subject: no BIDS name) has no folder, so no row either (BIDS requires both or neither).
    participants = _tsv(mixed / "participants.tsv")
    manifest = client.get(f"{API}/cohorts/{cohort['id']}/manifest", headers=headers).get_json()
    in_cohort = {item["subject_id"] for item in manifest["items"]}
    folders = {path.name for path in mixed.glob("sub-*") if path.is_dir()}

    def label(subject):
        return "sub-" + "".join(ch for ch in subject["dataset"] + subject["external_id"]
                                if ch.isalnum())

    subjects = [subject for subject in client.get(
        f"{API}/subjects?dataset=OASIS&dataset=ds114&dataset={DICOM}&per_page=1000",
        headers=headers).get_json()["items"]
        if subject["id"] in in_cohort and label(subject) in folders]
    assert len(subjects) == len(folders) and {s["dataset"] for s in subjects} == {
        "OASIS", "ds114", DICOM}
    expected = {(s["dataset"], s["external_id"]): (
        s["sex"] if s["sex"] != "unknown" else "n/a",
        "n/a" if s["age_at_baseline"] is None else f"{s['age_at_baseline']:.10g}")
        for s in subjects}
    assert {(row.dataset, row.source_participant_id): (row.sex, row.age)
            for row in participants.itertuples()} == expected
    assert list(participants.participant_id) == [
        "sub-" + "".join(ch for ch in dataset + external if ch.isalnum())
        for dataset, external in sorted(expected)]

    # Each ds114 DWI (20) has the dataset's .bval/.bvec, byte for byte.
    dwi = sorted(mixed.glob("sub-ds114*/ses-*/dwi/*_dwi.nii.gz"))
    assert len(dwi) == 20
    source = shared_data / "bids" / "ds114"
    for image in dwi:
        stem = image.name.removesuffix(".nii.gz")
        for extension in GRADIENTS:
            assert (image.parent / f"{stem}{extension}").read_bytes() == (
                source / f"dwi{extension}").read_bytes()
    # The converted DICOM series are there with dcm2niix's sidecars; its DWI with the b-values
    # and vectors dcm2niix wrote (one per volume), byte for byte.
    converted = converted_files(session, [item["image_id"] for item in manifest["items"]
                                          if item["dataset"] == DICOM])
    dicom_niftis = sorted(mixed.glob(f"sub-{DICOM}*/ses-*/*/*.nii.gz"))
    # Field maps have no BIDS name yet (magnitude/phase roles are not told apart): left out.
    types = {item["image_id"]: item["type"] for item in manifest["items"]}
    assert len(dicom_niftis) == sum(types[image_id] != "FieldMap" for image_id in converted) > 0
    for image in dicom_niftis:
        assert image.with_name(image.name.replace(".nii.gz", ".json")).is_file()
    dicom_bvals = sorted(get_storage().read(roles[role]) for roles in converted.values()
                         for role in ("bval", "bvec") if role in roles)
    exported = sorted(path.read_bytes() for path in mixed.glob(f"sub-{DICOM}*/ses-*/dwi/*")
                      if path.name.endswith(GRADIENTS))
    assert len(dicom_bvals) == 4 and exported == dicom_bvals  # two DWIs, each .bval + .bvec
    # OASIS' DWI has no gradient files: left out, and said so in the README.
    readme = (mixed / "README").read_text()
    assert "sub-OAS30001_ses-d0129_dwi.nii.gz): a DWI without .bval/.bvec files" in readme

    # The zip is audited as a download of the images it holds.
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == AuditAction.DOWNLOAD).order_by(AuditEvent.id.desc())).first()
    assert event.key_name == "researcher"
    assert event.details == {"cohort_id": cohort["id"], "format": "bids"}
    assert len(event.image_ids) == len(list(mixed.rglob("*.nii.gz")))

    # The same cohort again, by the command, with links: the same metadata, byte for byte.
    again = tmp_path / "again"
    result = _invoke(app, "export-bids", str(cohort["id"]), str(again), "--link")
    assert result.exit_code == 0, result.output
    assert _metadata_files(again) == _metadata_files(mixed)
    exports["again"] = again
    again_validation = Validation([again])
    linked = next(again.rglob("*_T1w.nii.gz"))
    assert linked.is_symlink()
    assert linked.read_bytes() == (mixed / linked.relative_to(again)).read_bytes()

    # A missing cohort, a bad query and a folder in use are exit 2.
    assert _invoke(app, "export-bids", "999999", str(tmp_path / "none")).exit_code == 2
    assert _invoke(app, "export-bids", "type=T9", str(tmp_path / "none")).exit_code == 2
    assert _invoke(app, "export-bids", str(cohort["id"]), str(again)).exit_code == 2

    # One image's download with its sidecars: a zip of its file, .bval and .bvec (DWI).
    dwi_id = next(item["image_id"] for item in manifest["items"]
                  if item["path"] == "ds114/sub-01/ses-test/dwi/sub-01_ses-test_dwi.nii.gz")
    response = client.get(f"{API}/images/{dwi_id}/download?sidecars=true", headers=headers)
    bundle = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert sorted(bundle.namelist()) == [
        "sub-01_ses-test_dwi.bval", "sub-01_ses-test_dwi.bvec", "sub-01_ses-test_dwi.nii.gz"]
    assert bundle.read("sub-01_ses-test_dwi.bval") == (source / "dwi.bval").read_bytes()
    t1_id = next(item["image_id"] for item in manifest["items"] if item["path"].endswith(
        "sub-OAS30001_ses-d0129_T1w.nii.gz"))
    bundle = zipfile.ZipFile(io.BytesIO(client.get(
        f"{API}/images/{t1_id}/download?sidecars=true", headers=headers).get_data()))
    own = DATA_DIR / "OASIS/bids/sub-OAS30001/ses-d0129/anat/sub-OAS30001_ses-d0129_T1w"
    assert json.loads(bundle.read("sub-OAS30001_ses-d0129_T1w.json")) == json.loads(
        own.with_suffix(".json").read_text())
    assert bundle.read("sub-OAS30001_ses-d0129_T1w.nii.gz") == (
        own.parent / f"{own.name}.nii.gz").read_bytes()

    # A key that no longer sees OASIS gets the cohort's ds114 images only.
    key = session.scalar(select(ApiKey).where(ApiKey.name == "researcher"))
    ds114 = session.scalar(select(Dataset).where(Dataset.designation == "ds114"))
    key.all_datasets = False
    grant_dataset(key, ds114)
    session.commit()
    response = client.get(f"{API}/cohorts/{cohort['id']}/bids.zip", headers=headers)
    ds114_only = exports["ds114 only"] = tmp_path / "ds114 only"
    zipfile.ZipFile(io.BytesIO(response.get_data())).extractall(ds114_only)
    assert {path.name for path in ds114_only.glob("sub-*")} == {
        f"sub-ds114{number:02d}" for number in range(1, 11)}
    assert set(_tsv(ds114_only / "participants.tsv").dataset) == {"ds114"}

    # Every export is valid BIDS.
    errors = {**examples.errors(), **mixed_validation.errors(), **again_validation.errors(),
              **Validation([ds114_only]).errors()}
    assert errors == {str(folder): [] for folder in exports.values()}
