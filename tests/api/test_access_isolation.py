"""A key restricted to ALPHA reads nothing of BETA: the audit log, provenance inputs and their
verification, claims (404 as for a missing id); and every write, preview and cohort diff is in
the audit log. On both databases and both storage backends."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Claim, Scope
from app.processing.provenance import with_id, write_prov_objects
from app.storage import get_storage, sha256_of
from globals import DATA_DIR
from tests.support.apps import table_counts
from tests.support.factories import bearer, make_api_key, make_derived_file

API = "/api/v1"
HCP_T1 = DATA_DIR / "HCP" / "100206" / "unprocessed" / "3T" / "T1w_MPR1" / \
    "100206_3T_T1w_MPR1.nii.gz"
pytestmark = [pytest.mark.storage("each"), pytest.mark.usefixtures("image_files")]


@pytest.fixture
def everything(session, world) -> dict[str, str]:
    """A key with every scope on every dataset (sets the scene, reads the whole log)."""
    _, token = make_api_key(session, name="root-of-all", scopes=list(Scope))
    session.commit()
    return bearer(token)


@pytest.fixture
def alpha(session, world) -> dict[str, str]:
    """A key with every scope, admin and worker included, restricted to ALPHA."""
    _, token = make_api_key(session, name="alpha-only", scopes=list(Scope),
                            datasets=[world.datasets["ALPHA"]])
    session.commit()
    return bearer(token)


def entries(client, headers, **params) -> list[dict]:
    response = client.get(f"{API}/audit", query_string={"per_page": 1000, **params},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def claim(client, headers, **query) -> dict:
    response = client.post(f"{API}/claims", json={"task": "mask", "worker": "w"},
                           query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"][0]


def record_of(inputs: list[dict], outputs: list[dict]) -> dict:
    return {"module": {"name": "mask", "version": "1"}, "container": None, "user": "u@h",
            "start_time": "2026-12-01T12:00:00+00:00", "duration": 1, "inputs": inputs,
            "outputs": outputs, "parameters": {}, "command": "mask"}


def test_a_restricted_admin_reads_only_entries_of_its_own_datasets(client, session, world,
                                                                   everything, alpha):
    i1, i5 = world.id("images", "i1"), world.id("images", "i5")
    _, beta_token = make_api_key(session, name="beta-secret-key", datasets=[
        world.datasets["BETA"]])
    session.commit()
    assert client.get(f"{API}/images/{i5}/download", headers=bearer(beta_token)).status_code in \
        (200, 302)
    assert client.get(f"{API}/images/{i1}/download", headers=everything).status_code in (200, 302)
    # Rows of ALPHA only, but the query names BETA: the entry touches BETA too.
    export = client.get(f"{API}/subjects", headers=everything, query_string={
        "format": "csv", "dataset": ["ALPHA", "BETA"], "sex": "male"})
    assert export.get_data(as_text=True).count("\n") == 2  # header, bob
    assert client.get(f"{API}/images/{i1}/download", headers=alpha).status_code in (200, 302)

    every = entries(client, everything)
    assert {"beta-secret-key", "alpha-only", "root-of-all"} <= {e["key"] for e in every}
    seen = entries(client, alpha)
    assert [(e["key"], e["action"], e["datasets"], e["image_ids"]) for e in seen] == [
        ("alpha-only", "key_create", ["ALPHA"], None),
        ("root-of-all", "download", ["ALPHA"], [i1]),
        ("alpha-only", "download", ["ALPHA"], [i1]),
    ]
    text = str(seen)
    assert "BETA" not in text and "beta-secret-key" not in text
    assert i5 not in {image_id for e in seen for image_id in e["image_ids"] or []}
    # The filters cannot reach past the grants either.
    assert entries(client, alpha, key="beta-secret-key") == []
    hidden = client.get(f"{API}/audit", query_string={"dataset": "BETA"}, headers=alpha)
    assert hidden.status_code == 400 and "BETA" in hidden.get_json()["message"]


def test_provenance_inputs_of_other_datasets_are_refused_when_recorded(client, session, world,
                                                                      alpha):
    storage = get_storage()
    lease = claim(client, alpha, dataset="ALPHA", type="T1")
    claim_id, token = lease["claim_id"], lease["lease_token"]
    upload = client.put(f"{API}/claims/{claim_id}/files/mask.nii.gz", data=b"mask",
                        headers={**alpha, "X-Lease-Token": token})
    assert upload.status_code == 201, upload.get_json()
    output = {"key": upload.get_json()["key"], "sha256": hashlib.sha256(b"mask").hexdigest()}
    beta_path = world.images["i5"].path
    assert storage.exists(beta_path)
    before = table_counts()
    messages = set()
    for key in (beta_path, "cat/absent.nii.gz", "../../etc/passwd", "BETA/anything",
                f"derived/mask/image-{world.id('images', 'i6')}/x.nii.gz"):
        refused = client.post(f"{API}/claims/{claim_id}/complete", headers=alpha, json={
            "lease_token": token, "outputs": [{"key": output["key"], "file_type": "mask"}],
            "provenance": record_of([{"key": key, "sha256": "0" * 64}], [output])})
        assert refused.status_code == 400, (key, refused.get_json())
        messages.add(refused.get_json()["message"].replace(repr(key), "KEY"))
        assert table_counts() == before
    # One message for another dataset's object and for no object at all.
    assert messages == {"provenance record: input KEY is not an object of a dataset this key "
                        "may write"}

    own = world.images["i1"].path
    done = client.post(f"{API}/claims/{claim_id}/complete", headers=alpha, json={
        "lease_token": token, "outputs": [{"key": output["key"], "file_type": "mask"}],
        "provenance": record_of([{"key": own, "sha256": sha256_of(storage.read(own))}],
                                [output])})
    assert done.status_code == 200, done.get_json()
    verified = client.get(f"{API}/derived/{done.get_json()['derived_ids'][0]}/verify",
                          headers=alpha)
    assert verified.status_code == 200 and verified.get_json()["valid"] is True


def test_verify_never_reads_objects_of_other_datasets(client, session, world, alpha,
                                                      everything):
    """A record naming other datasets' objects (written before inputs were checked) is
    verified without reading them: the same answer whether the object exists or not."""
    storage = get_storage()
    i1 = world.images["i1"]
    output = f"derived/mask/image-{i1.id}/old.nii.gz"
    storage.put(output, b"old")
    inputs = [{"key": i1.path, "sha256": sha256_of(storage.read(i1.path))},
              {"key": world.images["i5"].path, "sha256": "0" * 64},  # BETA's, exists
              {"key": "cat/absent.nii.gz", "sha256": "0" * 64},  # nobody's object
              {"key": "../../etc/passwd", "sha256": "0" * 64}]
    record = with_id(record_of(inputs, [{"key": output, "sha256": sha256_of(b"old")}]))
    write_prov_objects(storage, record)
    derived = make_derived_file(session, image=i1, path=output, provenance=record,
                                provenance_id=record["id"])
    session.commit()

    answer = client.get(f"{API}/derived/{derived.id}/verify", headers=alpha)
    assert answer.status_code == 200, answer.get_json()
    files = answer.get_json()["files"]
    assert [(f["key"], f["checked"], f["actual"] is not None, f["matches"]) for f in files] == [
        (i1.path, True, True, True), (world.images["i5"].path, False, False, False),
        ("cat/absent.nii.gz", False, False, False), ("../../etc/passwd", False, False, False),
        (output, True, True, True)]
    assert answer.get_json()["valid"] is False
    # A key seeing both datasets reads BETA's object; an object of no dataset and an invalid
    # key are still never read (and no 404).
    wide = client.get(f"{API}/derived/{derived.id}/verify", headers=everything).get_json()
    assert [f["checked"] for f in wide["files"]] == [True, True, False, False, True]
    assert wide["files"][1]["actual"] == sha256_of(storage.read(world.images["i5"].path))


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "renew", {"lease_token": "x"}),
    ("post", "fail", {"lease_token": "x", "error": "e"}),
    ("post", "complete", {"lease_token": "x", "provenance": {}}),
    ("put", "files/out.nii.gz", None),
])
def test_a_claim_of_another_dataset_is_a_404_like_a_missing_one(client, world, alpha,
                                                                everything, method, path,
                                                                body):
    beta_claim = claim(client, everything, dataset="BETA")
    answers = []
    for claim_id in (beta_claim["claim_id"], 2_000_000_000):
        kwargs = {"json": body} if body is not None else {
            "data": b"x", "headers": {**alpha, "X-Lease-Token": beta_claim["lease_token"]}}
        response = getattr(client, method)(f"{API}/claims/{claim_id}/{path}",
                                           **{"headers": alpha, **kwargs})
        answers.append((response.status_code,
                        response.get_json()["message"].replace(str(claim_id), "ID")))
    assert answers[0] == answers[1] == (404, "claim ID not found")


def test_writes_previews_and_diffs_are_audited(client, session, world, alpha):
    i1, i2 = world.id("images", "i1"), world.id("images", "i2")
    storage = get_storage()
    made = client.post(f"{API}/cohorts", json={"name": "c", "query": {"type": "T1"}},
                       headers=alpha)
    cohort_id = made.get_json()["id"]
    assert client.get(f"{API}/cohorts/{cohort_id}/diff", headers=alpha).status_code == 200
    assert client.delete(f"{API}/cohorts/{cohort_id}", headers=alpha).status_code == 204
    review = client.put(f"{API}/images/{i1}/qc", json={"action": "flag", "comment": "motion"},
                        headers=alpha)
    assert review.status_code == 200, review.get_json()
    lease = claim(client, alpha, dataset="ALPHA", type="DWI")
    token = lease["lease_token"]
    headers = {**alpha, "X-Lease-Token": token}
    assert client.post(f"{API}/claims/{lease['claim_id']}/renew", json={"lease_token": token},
                       headers=alpha).status_code == 200
    upload = client.put(f"{API}/claims/{lease['claim_id']}/files/m.nii.gz", data=b"m",
                        headers=headers).get_json()
    assert client.post(f"{API}/claims/{lease['claim_id']}/fail",
                       json={"lease_token": token, "error": "boom"},
                       headers=alpha).status_code == 200
    # The preview of a file that is not an image is refused and not logged; a real one is.
    assert client.get(f"{API}/images/{i2}/preview.png", headers=alpha).status_code == 422

    logged = [(e["key"], e["action"], e["datasets"], e["image_ids"], e["row_count"])
              for e in entries(client, alpha) if e["action"] != "key_create"]
    assert logged == [
        ("alpha-only", "cohort_create", ["ALPHA"], None, 3),
        ("alpha-only", "cohort_diff", ["ALPHA"], None, 3),
        ("alpha-only", "cohort_delete", ["ALPHA"], None, 3),
        ("alpha-only", "qc_review", ["ALPHA"], [i1], None),
        ("alpha-only", "claim", ["ALPHA"], [i2], None),
        ("alpha-only", "claim_renew", ["ALPHA"], [i2], None),
        ("alpha-only", "claim_upload", ["ALPHA"], [i2], None),
        ("alpha-only", "claim_fail", ["ALPHA"], [i2], None),
    ]
    details = {e["action"]: e["details"] for e in entries(client, alpha)}
    assert details["cohort_create"] == {"cohort_id": cohort_id, "name": "c",
                                        "query": {"type": ["T1"]}}
    assert details["qc_review"] == {"action": "flag", "qc_state": "flagged"}
    assert details["claim_upload"]["key"] == upload["key"]
    assert details["claim_fail"]["claim_ids"] == [lease["claim_id"]]

    storage.put(world.images["i3"].path, HCP_T1.read_bytes())
    i3 = world.id("images", "i3")
    assert client.get(f"{API}/images/{i3}/preview.png", headers=alpha).status_code == 200
    last = entries(client, alpha)[-1]
    assert (last["action"], last["datasets"], last["image_ids"], last["details"]) == (
        "preview", ["ALPHA"], [i3], {"image_id": i3})
    assert session.scalar(select(Claim.state).where(Claim.id == lease["claim_id"])) == "pending"
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "claim_complete")) \
        is None
