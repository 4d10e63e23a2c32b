"""`flask upload` and `flask check-storage`, on both databases and both storage backends."""
from __future__ import annotations

import io
import json

import pydicom
import pytest

from app.storage import get_storage
from tests.support.apps import make_app, new_bucket
from tests.support.dataset_tree import KEYS, write_tree
from tests.support.factories import make_dataset

pytestmark = pytest.mark.storage("each")


def test_upload_defaults_to_the_dataset_storage_prefix(app, session, tmp_path):
    dataset = make_dataset(session, designation="OASIS3", storage_prefix="oasis/v3")
    session.commit()
    source = write_tree(tmp_path / "src")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["upload", "OASIS3", str(source), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "uploaded: 6, skipped (already present): 0, ignored (hidden files, archives): 5, "
        "failed: 0",
        "image checksums recorded: 0"]
    expected = [key.replace("DS/", "oasis/v3/", 1) for key in KEYS]
    assert [info.key for info in get_storage().list(f"{dataset.storage_prefix}/")] == expected

    again = runner.invoke(args=["upload", "OASIS3", str(source)])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0].startswith("uploaded: 0, skipped (already present): 6")

    check = runner.invoke(args=["check-storage", "OASIS3", str(source)])
    assert (check.exit_code, check.output) == (0, "0 difference(s)\n")

    # The dataset in any case; --json prints the same reports as JSON alone.
    as_json = json.loads(runner.invoke(args=["upload", "oasis3", str(source), "--json"]).stdout)
    assert (as_json["uploaded"], sorted(as_json["skipped"]), as_json["failed"]) == (
        [], expected, {})
    (source / "stray.txt").write_text("not stored")
    checked = runner.invoke(args=["check-storage", "oasis3", str(source), "--json"])
    assert (checked.exit_code, json.loads(checked.stdout)) == (1, [
        {"kind": "missing", "key": "oasis/v3/stray.txt",
         "detail": "stray.txt is not in storage"}])


def test_upload_dry_run_and_explicit_prefix(app, session, tmp_path):
    source = write_tree(tmp_path / "src")
    result = app.test_cli_runner().invoke(
        args=["upload", "ANY", str(source), "--prefix", "elsewhere", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("to upload: 6, skipped (already present): 0")
    assert list(get_storage().list("elsewhere/")) == []


def test_check_storage_prints_each_difference_and_fails(app, session, tmp_path):
    make_dataset(session, designation="HCP", storage_prefix="hcp")
    session.commit()
    source = write_tree(tmp_path / "src")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["upload", "HCP", str(source)]).exit_code == 0
    storage = get_storage()
    storage.delete("hcp/participants.tsv")
    storage.put("hcp/stray.txt", b"stray")

    result = runner.invoke(args=["check-storage", "HCP", str(source)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "missing: hcp/participants.tsv (participants.tsv is not in storage)",
        "extra: hcp/stray.txt (no such file on disk)",
        "2 difference(s)",
    ]


def test_unknown_dataset_is_a_usage_error(app, session, tmp_path):
    source = write_tree(tmp_path / "src")
    for command in ("upload", "check-storage"):
        result = app.test_cli_runner().invoke(args=[command, "NOPE", str(source)])
        assert result.exit_code == 2
        assert "no dataset 'NOPE'" in result.output


def test_upload_multipart_threshold_option(s3_server, tmp_path):
    bucket = new_bucket(s3_server)
    # --prefix given: the database is not consulted, so an empty one will do.
    application = make_app(f"sqlite:///{tmp_path / 'mbid.db'}", **s3_server.settings(bucket))
    source = write_tree(tmp_path / "src", {"big.bin": bytes(6 * 1024 * 1024)})
    # The module's app context stays pushed, so this test pushes its own app's.
    with application.app_context():
        result = application.test_cli_runner().invoke(
            args=["upload", "X", str(source), "--prefix", "X", "--multipart-threshold", "1048576"])
        assert result.exit_code == 0, result.output
        assert get_storage().stat("X/big.bin").etag.endswith("-2")


def test_a_strict_upload_stops_at_a_link_out_of_the_folder(app, session, tmp_path):
    (tmp_path / "hostname").write_text("the server's name\n")
    source = write_tree(tmp_path / "src")
    (source / "sub-01" / "anat" / "sub-01_T2w.nii.gz").symlink_to(tmp_path / "hostname")
    result = app.test_cli_runner().invoke(
        args=["upload", "ANY", str(source), "--prefix", "strict", "--strict"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {source}/sub-01/anat/sub-01_T2w.nii.gz: symlink leading out of the dataset "
        "folder (nothing was uploaded)\n")
    assert list(get_storage().list("strict/")) == []


def test_a_prefix_storage_would_refuse_is_a_usage_error(app, session, tmp_path):
    source = write_tree(tmp_path / "src")
    for command in ("upload", "check-storage"):
        result = app.test_cli_runner().invoke(
            args=[command, "ANY", str(source), "--prefix", "../../etc"])
        assert result.exit_code == 2
        assert "'../../etc' cannot be a key prefix: it has an '..' path segment" in result.output


def test_upload_deidentify_stores_deidentified_copies_of_dicom_files(app, session, tmp_path,
                                                                      shared_data):
    series = shared_data / "dicom" / "dcm_qa_xa30" / "8_gre_field_mapping"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["upload", "X", str(series), "--prefix", "deid", "--deidentify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "de-identified: 2, copied as they are (not DICOM): 0, failed: 0",
        "uploaded: 2, skipped (already present): 0, ignored (hidden files, archives): 0, "
        "failed: 0"]
    for file in sorted(series.iterdir()):
        copy = pydicom.dcmread(io.BytesIO(get_storage().read(f"deid/{file.name}")))
        assert (copy.PatientIdentityRemoved, copy.get("InstitutionName")) == ("YES", None)
        assert copy.PatientName != pydicom.dcmread(file, stop_before_pixels=True).PatientName
    again = runner.invoke(args=["upload", "X", str(series), "--prefix", "deid", "--deidentify",
                                "--json"])
    report = json.loads(again.stdout)
    assert (report["deidentify"]["deidentified"], report["uploaded"], len(report["skipped"])) == (
        2, [], 2)
