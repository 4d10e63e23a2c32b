"""DICOM images through the client and the worker kit, against a live server on both databases
and both storage backends: a series (or one part of a folder) saved as a verified `<path>.zip`
or unpacked, and once converted its NIfTI, with its sidecars and in the worker's provenance."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from mbid_client import ChecksumMismatch, Client
from mbid_client.modules import BrainExtentMask
from mbid_client.worker import Worker
from pydicom.uid import generate_uid
from sqlalchemy import select

from app.models import ConvertedFile, Dataset, Image, Scope
from app.storage import get_storage
from tests.support.dicom import write_series
from tests.support.factories import make_api_key

DWI_SERIES = "dcm_qa_ge/01_Ax_DWI_TENSOR_R2"


def set_checksum(files: dict[str, bytes]) -> str:
    """The file-set checksum, computed here: the SHA-256 of the `sha256sum` listing."""
    listing = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n"
                      for name in sorted(files))
    return hashlib.sha256(listing.encode()).hexdigest()


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def files_under(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*")
                  if path.is_file())


def load_and_upload(app, dataset: str, root: Path) -> None:
    runner = app.test_cli_runner()
    for args in (["load-dicom", dataset, str(root), "--register", "--workers", "1"],
                 ["upload", dataset, str(root)]):  # the upload records the checksums
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output


def test_each_part_of_a_dicom_folder_is_its_own_verified_zip(app, session, mbid, tmp_path):
    root = tmp_path / "src"
    series, study = generate_uid(), generate_uid()
    for echo in (1, 2):  # two echoes of one field map, side by side in one folder
        write_series(root / "fmap", "SUBJ01", "gre_field_mapping", 8, study_uid=study,
                     series_uid=series, echo=echo, echo_time=2.46 * (echo + 1), name=f"e{echo}_",
                     files=3)
    load_and_upload(app, "FS", root)
    echoes = {f"FS/fmap#echo-{echo}": {path.name: path.read_bytes()
                                        for path in (root / "fmap").glob(f"e{echo}_*")}
              for echo in (1, 2)}
    ids = {path: id_ for path, id_ in session.execute(
        select(Image.path, Image.id).join(Dataset).where(Dataset.designation == "FS"))}
    assert sorted(ids) == sorted(echoes)
    rows = mbid.images(dataset="FS")
    assert dict(zip(rows["path"], rows["checksum"], strict=True)) == {
        path: set_checksum(files) for path, files in echoes.items()}

    dest = tmp_path / "dest"
    report = mbid.download({"dataset": "FS"}, dest, progress=False)
    assert sorted(report.downloaded) == sorted(echoes) and report.unverified == []
    assert report.saved == {path: f"{path}.zip" for path in echoes}
    assert files_under(dest) == ["FS/fmap#echo-1.zip", "FS/fmap#echo-2.zip"]
    for path, files in echoes.items():  # exactly the part's own three files, byte for byte
        assert zip_members(dest / f"{path}.zip") == files
    again = mbid.download({"dataset": "FS"}, dest, progress=False)
    assert sorted(again.skipped) == sorted(echoes) and again.downloaded == []

    unpacked = tmp_path / "unpacked"
    mbid.download({"dataset": "FS"}, unpacked, progress=False, unpack=True)
    assert files_under(unpacked) == sorted(f"{path}/{name}" for path, files in echoes.items()
                                           for name in files)
    for path, files in echoes.items():
        assert {item.name: item.read_bytes() for item in (unpacked / path).iterdir()} == files
    assert mbid.download({"dataset": "FS"}, unpacked, progress=False,
                         unpack=True).skipped == sorted(echoes)

    # One image asked for: that echo's files only, not the folder's six.
    one = tmp_path / "one"
    saved = mbid.download_image(ids["FS/fmap#echo-2"], one)
    assert saved == (one / "FS" / "fmap#echo-2.zip").resolve()
    assert files_under(one) == ["FS/fmap#echo-2.zip"]
    assert zip_members(saved) == echoes["FS/fmap#echo-2"]
    folder = mbid.download_image(ids["FS/fmap#echo-1"], one, unpack=True)
    assert sorted(item.name for item in folder.iterdir()) == sorted(echoes["FS/fmap#echo-1"])

    # A set whose files are not what the server recorded is deleted and reported.
    session.get(Image, ids["FS/fmap#echo-1"]).checksum = "0" * 64
    session.commit()
    with pytest.raises(ChecksumMismatch) as mismatch:
        mbid.download({"dataset": "FS"}, tmp_path / "bad", progress=False)
    assert mismatch.value.paths == ["FS/fmap#echo-1"]
    assert files_under(tmp_path / "bad") == ["FS/fmap#echo-2.zip"]


def test_a_converted_series_comes_as_its_nifti_with_sidecars_and_to_the_worker(
        app, session, mbid, live_server, copy_dicom, tmp_path):
    source = copy_dicom(DWI_SERIES, "src/dwi")
    load_and_upload(app, "X", tmp_path / "src")
    image = session.scalar(select(Image).where(Image.path == "X/dwi"))
    dicom = {path.name: path.read_bytes() for path in source.iterdir()}
    dest = tmp_path / "dest"
    before = mbid.download({"dataset": "X"}, dest, progress=False)
    assert before.saved == {"X/dwi": "X/dwi.zip"} and before.unverified == []
    assert zip_members(dest / "X" / "dwi.zip") == dicom

    result = app.test_cli_runner().invoke(args=["convert", "X"])
    assert result.exit_code == 0, result.output
    storage = get_storage()
    converted = {row.role: row for row in session.scalars(select(ConvertedFile))}
    assert {role: row.key for role, row in converted.items()} == {
        "nifti": "X/dwi.nii.gz", "sidecar": "X/dwi.json", "bval": "X/dwi.bval",
        "bvec": "X/dwi.bvec"}
    nifti = storage.read("X/dwi.nii.gz")
    assert converted["nifti"].sha256 == hashlib.sha256(nifti).hexdigest()

    # The row still describes the DICOM series; the client checks the NIfTI it is served.
    assert mbid.image(image.id)["checksum"] == set_checksum(dicom)
    after = mbid.download({"dataset": "X"}, dest, progress=False)
    assert (after.downloaded, after.unverified, after.saved) == (
        ["X/dwi"], [], {"X/dwi": "X/dwi.nii.gz"})
    assert (dest / "X" / "dwi.nii.gz").read_bytes() == nifti
    assert files_under(dest) == ["X/dwi.nii.gz", "X/dwi.zip"]
    assert mbid.download({"dataset": "X"}, dest, progress=False).skipped == ["X/dwi"]
    assert mbid.download_image(image.id, tmp_path / "one").read_bytes() == nifti

    # With sidecars: dcm2niix's NIfTI, JSON sidecar, .bval and .bvec, named after the NIfTI.
    answer = mbid.request("GET", f"/images/{image.id}/download", params={"sidecars": "true"})
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        bundle = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(bundle) == ["dwi.bval", "dwi.bvec", "dwi.json", "dwi.nii.gz"]
    assert bundle["dwi.nii.gz"] == nifti
    assert bundle["dwi.bval"] == storage.read("X/dwi.bval")
    assert bundle["dwi.bvec"] == storage.read("X/dwi.bvec")
    assert json.loads(bundle["dwi.json"]) == json.loads(storage.read("X/dwi.json"))

    # The worker kit runs on the NIfTI, and its provenance names the NIfTI and its SHA-256.
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    _, worker_token = make_api_key(session, scopes=[Scope.WORKER, Scope.DOWNLOAD, Scope.READ])
    session.commit()
    worker = Worker(Client(live_server.url, worker_token, retries=1, backoff=0.01),
                    BrainExtentMask(), filters={"dataset": "X"}, lease_seconds=30)
    assert worker.run() == {"completed": 1, "failed": 0, "lost": 0}
    derived = mbid.derived(image.id)[0]
    record = mbid.get_json(f"/derived/{derived['id']}")["provenance"]
    assert record["inputs"] == [{"key": "X/dwi.nii.gz",
                                 "sha256": hashlib.sha256(nifti).hexdigest()}]
    assert mbid.get_json(f"/derived/{derived['id']}/verify")["valid"]
