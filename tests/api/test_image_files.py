"""An image's download holds exactly the files it was built from, and its checksum is theirs.

On both databases and both storage backends: a folder of several DICOM series beside a folder
holding one of them again as an enhanced file, one echo of a two-echo field map, a dataset
named with `#` refused, and crafted rows naming another dataset's objects never served.
"""
from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile
from pathlib import Path

import pytest
from pydicom.uid import generate_uid
from sqlalchemy import select

from app.files.image_files import file_set_checksum
from app.models import Dataset, Image, ImageFile, Scope
from app.storage import get_storage
from tests.support.apps import table_counts
from tests.support.dicom import write_series
from tests.support.factories import bearer, make_api_key, make_dataset, make_image, make_subject

DESCRIPTIONS = ("T1w MPRAGE", "T1w MPRAGE repeat", "T1w MPRAGE nav")


pytestmark = pytest.mark.storage("each")


def write_folders(root: Path) -> dict[str, list[str]]:
    """Write three classic series in `cl`, the first again as one enhanced file in `en`, and a
    two-echo field map in `fmap`; return {image path (dataset prefix FS): its files}."""
    study = generate_uid()
    uids = [generate_uid() for _ in DESCRIPTIONS]
    for number, (uid, description) in enumerate(zip(uids, DESCRIPTIONS, strict=True), start=3):
        write_series(root / "cl", "SUBJ01", description, number, files=3, study_uid=study,
                     series_uid=uid, name=f"s{number}_")
    write_series(root / "en", "SUBJ01", DESCRIPTIONS[0], 3, files=3, study_uid=study,
                 series_uid=uids[0], enhanced=True)
    field_map = generate_uid()
    for echo, echo_time in ((1, 4.92), (2, 7.38)):
        write_series(root / "fmap", "SUBJ01", "gre_field_mapping", 8, files=2, study_uid=study,
                     series_uid=field_map, echo=echo, echo_time=echo_time, name=f"e{echo}_")

    def tag(uid: str) -> str:
        return f"series-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"

    return {
        f"FS/cl#{tag(uids[0])}_form-MR.Image.Storage": [f"cl/s3_{n:04d}.dcm" for n in (1, 2, 3)],
        f"FS/cl#{tag(uids[1])}": [f"cl/s4_{n:04d}.dcm" for n in (1, 2, 3)],
        f"FS/cl#{tag(uids[2])}": [f"cl/s5_{n:04d}.dcm" for n in (1, 2, 3)],
        "FS/en#form-Enhanced.MR.Image.Storage": ["en/0001.dcm"],
        "FS/fmap#echo-1": ["fmap/e1_0001.dcm", "fmap/e1_0002.dcm"],
        "FS/fmap#echo-2": ["fmap/e2_0001.dcm", "fmap/e2_0002.dcm"],
    }


def downloaded(client, headers, image_id: int) -> dict[str, bytes]:
    """{name: bytes} of an image's download: the zip (local) or the manifest's URLs (S3)."""
    response = client.get(f"/api/v1/images/{image_id}/download", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    if get_storage().shareable_urls:
        files = {}
        for entry in response.get_json()["files"]:
            with urllib.request.urlopen(entry["url"]) as fetched:
                files[entry["name"]] = fetched.read()
            assert entry["size"] == len(files[entry["name"]])
        return files
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_each_image_downloads_exactly_its_own_files_and_its_checksum_matches_them(
        app, client, auth_headers, session, tmp_path):
    root = tmp_path / "src"
    expected = write_folders(root)
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["load-dicom", str(root), "--dataset", "FS", "--register",
                                 "--workers", "1"])
    assert loaded.exit_code == 0, loaded.output
    uploaded = runner.invoke(args=["upload", "FS", str(root)])
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.output.splitlines()[-1] == f"image checksums recorded: {len(expected)}"

    images = {image.path: image for image in session.scalars(select(Image))}
    assert sorted(images) == sorted(expected)
    for path, files in expected.items():
        image = images[path]
        content = downloaded(client, auth_headers, image.id)
        # The folder's other series, the other echo and the other form are never included.
        own = {file.rsplit("/", 1)[-1]: (root / file).read_bytes() for file in files}
        assert content == own, path
        assert image.checksum == file_set_checksum(
            {name: hashlib.sha256(data).hexdigest() for name, data in content.items()})
        assert image.file_size == sum(len(data) for data in content.values())
        assert session.scalars(select(ImageFile.key).where(ImageFile.image_id == image.id)
                               .order_by(ImageFile.key)).all() == [f"FS/{f}" for f in files]

    # The tree and the recorded checksums agree with storage, and a re-load changes nothing.
    checked = runner.invoke(args=["check-storage", "FS", str(root)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "0 difference(s)"
    before = table_counts()
    again = runner.invoke(args=["load-dicom", "--storage-prefix", "FS", "--dataset", "FS",
                                "--workers", "1"])
    assert again.exit_code == 0, again.output
    session.expire_all()
    after = table_counts()
    assert [after[table] for table in ("image", "image_file", "subject", "visit")] == [
        before[table] for table in ("image", "image_file", "subject", "visit")]
    assert {image.path: image.checksum for image in session.scalars(select(Image))} == {
        path: image.checksum for path, image in images.items()}


def test_a_cohort_download_holds_each_series_own_files(app, client, session, tmp_path):
    root = tmp_path / "src"
    expected = write_folders(root)
    runner = app.test_cli_runner()
    for args in (["load-dicom", str(root), "--dataset", "FS", "--register", "--workers", "1"],
                 ["upload", "FS", str(root)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    _, token = make_api_key(session, name="owner",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    cohort = client.post("/api/v1/cohorts", headers=bearer(token),
                         json={"name": "fs", "query": {"dataset": "FS"}}).get_json()
    response = client.get(f"/api/v1/cohorts/{cohort['id']}/download", headers=bearer(token))
    assert response.status_code == 200
    if get_storage().shareable_urls:  # the manifest: a series is fetched by its own route
        ids = {image.path: image.id for image in session.scalars(select(Image))}
        assert {item["path"]: item["url"] for item in response.get_json()["items"]} == {
            path: f"http://localhost/api/v1/images/{ids[path]}/download" for path in expected}
        return
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    assert entries == {f"{path}/{file.rsplit('/', 1)[-1]}": (root / file).read_bytes()
                       for path, files in expected.items() for file in files}


def test_a_changed_file_is_a_difference_of_its_image_set(app, session, tmp_path):
    root = tmp_path / "src"
    write_folders(root)
    runner = app.test_cli_runner()
    for args in (["load-dicom", str(root), "--dataset", "FS", "--register", "--workers", "1"],
                 ["upload", "FS", str(root)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    get_storage().put("FS/fmap/e2_0002.dcm", b"another file of another size")
    image = session.scalar(select(Image).where(Image.path == "FS/fmap#echo-2"))
    checked = runner.invoke(args=["check-storage", "FS", str(root)])
    assert checked.exit_code == 1
    assert f"recorded: FS/fmap (image {image.id}: database sha256 {image.checksum}, storage " \
           "files give " in checked.output


def test_a_reload_records_the_files_as_they_are_now(app, client, auth_headers, session,
                                                    tmp_path):
    root = tmp_path / "src"
    write_folders(root)
    runner = app.test_cli_runner()
    load = ["load-dicom", str(root), "--dataset", "FS", "--register", "--workers", "1"]
    for args in (load, ["upload", "FS", str(root)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    (root / "fmap" / "e2_0002.dcm").unlink()
    get_storage().delete("FS/fmap/e2_0002.dcm")
    result = runner.invoke(args=load)
    assert result.exit_code == 0, result.output
    session.expire_all()
    image = session.scalar(select(Image).where(Image.path == "FS/fmap#echo-2"))
    assert [file.key for file in image.files] == ["FS/fmap/e2_0001.dcm"]
    # The set is known from storage again at once: its checksum is that of the file left.
    content = downloaded(client, auth_headers, image.id)
    assert content == {"e2_0001.dcm": (root / "fmap" / "e2_0001.dcm").read_bytes()}
    assert image.checksum == file_set_checksum(
        {name: hashlib.sha256(data).hexdigest() for name, data in content.items()})


def test_a_dataset_named_with_a_separator_is_refused(app, session, tmp_path):
    root = tmp_path / "src"
    write_series(root / "t1", "SUBJ01", "T1w MPRAGE", 3, study_uid=generate_uid())
    before = table_counts()
    for name, problem in (("OASIS#x", "it contains '#', a separator in storage keys or URLs"),
                          (" ", "it is blank")):
        result = app.test_cli_runner().invoke(args=["load-dicom", str(root), "--dataset", name,
                                                    "--register", "--workers", "1"])
        assert result.exit_code == 2
        assert f"{name!r} cannot name a dataset: {problem}" in result.output
    assert table_counts() == before


@pytest.fixture
def crafted(session):
    """OASIS (with its clinical table in storage) and a dataset named `OASIS#x` written before
    names were checked, whose rows are crafted to name OASIS's objects; a key granted only
    `OASIS#x`. Returns (token, {name: image})."""
    storage = get_storage()
    storage.put("OASIS/OASIS3_clinical_data.csv", b"secret clinical data")
    storage.put("OASIS#x/scans/a.dcm", b"own file a")
    storage.put("OASIS#x/scans/b.dcm", b"own file b")
    make_dataset(session, designation="OASIS", storage_prefix="OASIS")
    legacy = make_dataset(session, designation="OASIS#x", storage_prefix="OASIS#x")
    subject = make_subject(session, dataset=legacy)
    series = {"SOPClassName": "MR Image Storage", "NumberOfFiles": 2}
    images = {
        # The key: cut at the first `#`, it named the folder OASIS.
        "series": make_image(session, subject=subject, path="OASIS#x/scans#series-1",
                             metadata_json=series),
        "file_of_another": make_image(session, subject=subject, path="OASIS#x/other#series-2",
                                      metadata_json=series),
        "nifti_of_another": make_image(session, subject=subject,
                                       path="OASIS/OASIS3_clinical_data.csv"),
        "unrecorded": make_image(session, subject=subject, path="OASIS#x/old#series-3",
                                 metadata_json=series),
    }
    session.add_all([ImageFile(image=images["series"], key="OASIS#x/scans/a.dcm", size=10),
                     ImageFile(image=images["series"], key="OASIS#x/scans/b.dcm", size=10),
                     ImageFile(image=images["file_of_another"],
                               key="OASIS/OASIS3_clinical_data.csv", size=20)])
    _, token = make_api_key(session, name="oasis-x",
                            datasets=[session.scalar(select(Dataset).where(
                                Dataset.designation == "OASIS#x"))])
    session.commit()
    return token, images


def test_a_crafted_key_with_a_hash_serves_only_its_own_files(client, crafted):
    token, images = crafted
    assert downloaded(client, bearer(token), images["series"].id) == {
        "a.dcm": b"own file a", "b.dcm": b"own file b"}


@pytest.mark.parametrize("name", ["file_of_another", "nifti_of_another"])
def test_an_object_of_another_dataset_is_never_served(client, crafted, name):
    token, images = crafted
    image_id = images[name].id
    response = client.get(f"/api/v1/images/{image_id}/download", headers=bearer(token))
    assert (response.status_code, response.get_json()["message"]) == (
        404, f"the file of image {image_id} is missing from storage")
    preview = client.get(f"/api/v1/images/{image_id}/preview.png", headers=bearer(token))
    assert (preview.status_code, preview.get_json()["message"]) == (
        404, f"no image with id {image_id}")
    listed = client.get("/api/v1/images", headers=bearer(token),
                        query_string={"with_urls": "true", "per_page": 100}).get_json()
    urls = {item["id"]: item["url"] for item in listed["items"]}
    # Never a presigned URL of the other dataset's object: the API's own route, which refuses.
    assert urls[image_id] == f"http://localhost/api/v1/images/{image_id}/download"


def test_a_series_loaded_before_file_lists_were_recorded_is_a_clean_404(client, crafted):
    token, images = crafted
    image_id = images["unrecorded"].id
    response = client.get(f"/api/v1/images/{image_id}/download", headers=bearer(token))
    assert (response.status_code, response.get_json()["message"]) == (
        404, f"the files of image {image_id} are not recorded: load its dataset again")
