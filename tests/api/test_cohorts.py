"""Saved cohorts: freeze, list, manifest (JSON, CSV, Parquet, URLs), diff, download, delete."""
from __future__ import annotations

import csv
import io
import zipfile

import pyarrow.parquet as pq
import pytest

from app.access.auth import grant_dataset, key_for_token
from app.models import AuditEvent, Cohort, CohortImage, Scope
from app.query.cohorts import manifest_sha256
from app.storage import get_storage
from tests.support.factories import bearer, make_api_key, make_image

API = "/api/v1"
EVERY_SCOPE = [Scope.READ, Scope.WRITE, Scope.DOWNLOAD]

pytestmark = [pytest.mark.storage("local"), pytest.mark.usefixtures("image_files")]


@pytest.fixture
def owner(session, world) -> dict[str, str]:
    _, token = make_api_key(session, name="owner", scopes=EVERY_SCOPE)
    session.commit()
    return bearer(token)


def create(client, headers, query, name="women"):
    return client.post(f"{API}/cohorts", json={"name": name, "query": query}, headers=headers)


def test_a_cohort_freezes_the_query_in_canonical_order_with_its_sha256(client, world, owner):
    response = create(client, owner, {"sex": "female", "type": ["T1", "rsfMRI"]})
    assert response.status_code == 201, response.get_json()
    cohort = response.get_json()
    assert cohort["name"] == "women" and cohort["owner"] == "owner"
    assert cohort["query"] == {"sex": ["female"], "type": ["T1", "rsfMRI"]}
    assert cohort["image_count"] == 5

    manifest = client.get(f"{API}/cohorts/{cohort['id']}/manifest", headers=owner).get_json()
    # Canonical order: dataset, then storage key.
    assert [item["image_id"] for item in manifest["items"]] == [
        world.id("images", name) for name in ("i1", "i3", "i5", "i6", "i8")]
    assert manifest["items"][0] == {
        "image_id": world.id("images", "i1"), "dataset": "ALPHA",
        "subject_id": world.id("subjects", "ann"), "subject_external_id": "ann",
        "visit_id": world.id("visits", "a0"), "type": "T1", "path": "ALPHA/ann/i1.nii.gz",
        "file_size": 1001, "checksum": "c1"}
    assert manifest["manifest_sha256"] == cohort["manifest_sha256"] == manifest_sha256(
        manifest["items"])


def test_the_manifest_reads_the_same_as_json_csv_and_parquet(client, owner):
    cohort = create(client, owner, {"type": "T1"}).get_json()
    path = f"{API}/cohorts/{cohort['id']}/manifest"
    items = client.get(path, headers=owner).get_json()["items"]
    as_csv = client.get(f"{path}?format=csv", headers=owner)
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [int(row["image_id"]) for row in rows] == [item["image_id"] for item in items]
    table = pq.read_table(io.BytesIO(
        client.get(f"{path}?format=parquet", headers=owner).get_data()))
    assert table.to_pylist() == items
    assert str(table.schema.field("file_size").type) == "int64"


def test_with_urls_gives_working_links_and_is_audited(client, owner, image_files, world):
    cohort = create(client, owner, {"dataset": "BETA"}).get_json()
    body = client.get(f"{API}/cohorts/{cohort['id']}/manifest?with_urls=true",
                      headers=owner).get_json()
    assert [item["url"] for item in body["items"]] == [
        f"http://localhost/api/v1/images/{world.id('images', name)}/download"
        for name in ("i5", "i6", "i7", "i8")]
    file = client.get(body["items"][0]["url"].removeprefix("http://localhost"), headers=owner)
    assert file.get_data() == image_files["i5"]


def test_the_diff_names_added_removed_and_changed_images(client, session, world, owner):
    cohort = create(client, owner, {"dataset": "ALPHA", "type": "T1"}).get_json()
    new = make_image(session, subject=world.subjects["bob"], path="bob/new.nii.gz",
                     file_size=5)
    world.images["i3"].deleted_at = world.images["i9"].deleted_at
    world.images["i4"].checksum = "changed"
    session.commit()

    diff = client.get(f"{API}/cohorts/{cohort['id']}/diff", headers=owner).get_json()
    assert [row["image_id"] for row in diff["added"]] == [new.id]
    assert [row["image_id"] for row in diff["removed"]] == [world.id("images", "i3")]
    assert diff["changed"] == [{"image_id": world.id("images", "i4"),
                                "changes": {"checksum": [None, "changed"]}}]
    assert diff["unchanged"] == 1
    assert diff["frozen_sha256"] == cohort["manifest_sha256"] != diff["current_sha256"]


def test_an_unchanged_query_diffs_to_nothing_with_the_same_sha256(client, owner):
    cohort = create(client, owner, {"meta.RepetitionTime_max": 2.5}).get_json()
    assert cohort["image_count"] == 1
    diff = client.get(f"{API}/cohorts/{cohort['id']}/diff", headers=owner).get_json()
    assert (diff["added"], diff["removed"], diff["changed"], diff["unchanged"]) == (
        [], [], [], 1)
    assert diff["current_sha256"] == cohort["manifest_sha256"]


def test_a_cohort_belongs_to_its_key_and_hides_datasets_the_caller_may_not_see(
        client, session, world, owner):
    cohort = create(client, owner, {"type": "T1"}).get_json()
    _, stranger = make_api_key(session, name="stranger", scopes=EVERY_SCOPE)
    session.commit()
    assert client.get(f"{API}/cohorts/{cohort['id']}", headers=bearer(stranger)).status_code \
        == 404
    assert client.get(f"{API}/cohorts", headers=bearer(stranger)).get_json()["total"] == 0
    assert client.get(f"{API}/cohorts", headers=owner).get_json()["total"] == 1

    # The owner is left with ALPHA only: the frozen BETA images leave the manifest.
    owner_key = key_for_token(owner["Authorization"].split()[1])
    owner_key.all_datasets = False
    grant_dataset(owner_key, world.datasets["ALPHA"])
    session.commit()
    items = client.get(f"{API}/cohorts/{cohort['id']}/manifest", headers=owner).get_json()["items"]
    assert {item["dataset"] for item in items} == {"ALPHA"}


def test_scopes_write_to_create_and_delete_download_for_files(client, session, world, owner):
    _, reader = make_api_key(session, name="reader", scopes=[Scope.READ])
    session.commit()
    refused = create(client, bearer(reader), {"type": "T1"})
    assert refused.status_code == 403 and "'write'" in refused.get_json()["message"]
    cohort = create(client, owner, {"type": "T1"}).get_json()
    path = f"{API}/cohorts/{cohort['id']}"
    assert client.delete(path, headers=bearer(reader)).status_code == 403
    assert client.delete(path, headers=owner).status_code == 204
    assert client.get(path, headers=owner).status_code == 404
    assert session.query(CohortImage).count() == 0 and session.query(Cohort).count() == 0


@pytest.mark.parametrize(("query", "parameter", "message"), [
    ({"sex": "sometimes"}, "query.sex", "Must be one of"),
    ({"colour": "red"}, "query.colour", "Unknown field"),
    ({"age_min": "old"}, "query.age_min", "Not a valid number"),
    ({"meta.RepetitionTime_max": "fast"}, "query.meta.RepetitionTime_max", "must be a number"),
    ({"dataset": "NOPE"}, "dataset", "unknown dataset: NOPE"),
])
def test_a_bad_query_is_a_400_naming_the_parameter(client, owner, query, parameter, message):
    response = create(client, owner, query)
    body = response.get_json()
    assert response.status_code == 400, body
    assert parameter in body["errors"] and message in body["message"]


def test_a_bad_value_of_a_list_is_named_by_its_index_never_a_dict_dump(client, owner):
    response = create(client, owner, {"type": ["T1", "T9"], "sex": "female"})
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["errors"] == {
        "query.type[1]": ["Must be one of: T1, DWI, rsfMRI, FieldMap, Mammogram."]}
    assert body["message"] == ("invalid query: query.type[1]: "
                               "Must be one of: T1, DWI, rsfMRI, FieldMap, Mammogram.")


@pytest.mark.parametrize("body", [[1, 2], "women", 3])
def test_a_body_that_is_not_an_object_is_a_json_400(client, owner, body):
    response = client.post(f"{API}/cohorts", json=body, headers=owner)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"json": ["Invalid input type."]}


def test_download_streams_a_zip_of_the_files_and_is_audited(client, session, world, owner,
                                                             image_files):
    cohort = create(client, owner, {"dataset": "ALPHA"}).get_json()
    response = client.get(f"{API}/cohorts/{cohort['id']}/download", headers=owner)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert {name: archive.read(name) for name in archive.namelist()} == {
        world.images[name].path: image_files[name] for name in ("i1", "i2", "i3", "i4")}
    session.expire_all()
    event = session.query(AuditEvent).filter_by(action="download").one()
    assert event.key_name == "owner" and sorted(event.image_ids) == sorted(
        world.id("images", name) for name in ("i1", "i2", "i3", "i4"))


def test_a_file_missing_from_storage_is_listed_in_the_zip(client, world, owner):
    get_storage().delete(world.images["i6"].path)
    cohort = create(client, owner, {"dataset": "BETA"}).get_json()
    archive = zipfile.ZipFile(io.BytesIO(client.get(
        f"{API}/cohorts/{cohort['id']}/download", headers=owner).get_data()))
    assert archive.read("MISSING.txt") == b"BETA/cat/i6.nii.gz\n"
    assert sorted(archive.namelist()) == ["BETA/cat/i5.nii.gz", "BETA/dan/i7.nii.gz",
                                          "BETA/eve/i8.nii.gz", "MISSING.txt"]
