"""QC routes: reviews of images (PUT/GET /images/{id}/qc), blacklisted images leaving every
query unless asked for, and the completeness of visits loaded from a DATMAN-named tree."""
from __future__ import annotations

import csv
import io

import pytest
from pydicom.uid import generate_uid
from sqlalchemy import select

from app.models import UNTAGGED, Image
from tests.support.dicom import load_datman_tree, write_series
from tests.support.factories import bearer, make_api_key
from tests.support.world import ALL_IMAGES


@pytest.fixture
def writer(session) -> dict[str, str]:
    """Headers of a key that may read and write (name: reviewer-1)."""
    _, token = make_api_key(session, name="reviewer-1", scopes=["read", "write"])
    session.commit()
    return bearer(token)


def review(client, headers, image_id: int, **body):
    return client.put(f"/api/v1/images/{image_id}/qc", json=body, headers=headers)


def test_a_blacklisted_image_leaves_every_query_until_qc_all_or_a_reset(world, client, get,
                                                                       writer):
    i1 = world.id("images", "i1")
    answer = review(client, writer, i1, action="blacklist", comment="motion")
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["qc_state"], [
        (r["state"], r["comment"], r["author"]) for r in answer.get_json()["history"]]) == (
        "blacklisted", [("blacklisted", "motion", "reviewer-1")])

    rest = [name for name in ALL_IMAGES if name != "i1"]
    assert world.names("images", [i["id"] for i in get("/images").get_json()["items"]]) == rest
    assert get("/images").get_json()["total"] == 7
    assert get("/stats").get_json()["images"] == 7
    rows = list(csv.DictReader(io.StringIO(get("/images", format="csv").get_data(as_text=True))))
    assert [int(row["id"]) for row in rows] == [world.id("images", n) for n in rest]
    assert get(f"/images/{i1}").status_code == 404
    assert get("/datasets").get_json()["items"][0]["image_count"] == 3  # ALPHA: i2, i3, i4

    everything = get("/images", qc="all").get_json()
    assert world.names("images", [i["id"] for i in everything["items"]]) == ALL_IMAGES
    assert get("/stats", qc="all").get_json()["images"] == 8
    only = get("/images", qc="blacklisted").get_json()["items"]
    assert [(i["id"], i["qc_state"]) for i in only] == [(i1, "blacklisted")]
    assert get("/images", qc="new").get_json()["total"] == 7
    # By id, as on /images: qc=all or qc=blacklisted shows it, another state does not.
    for qc in ("all", "blacklisted"):
        detail = get(f"/images/{i1}", qc=qc)
        assert (detail.status_code, detail.get_json()["id"], detail.get_json()["qc_state"]) \
            == (200, i1, "blacklisted")
    assert get(f"/images/{i1}", qc="new").status_code == 404
    assert get(f"/images/{world.id('images', 'i2')}", qc="blacklisted").status_code == 404
    assert get(f"/images/{i1}", qc="sometimes").status_code == 400

    assert review(client, writer, i1, action="reset").status_code == 200
    assert get("/images").get_json()["total"] == 8
    history = get(f"/images/{i1}/qc").get_json()
    assert [(r["state"], r["author"]) for r in history["history"]] == [
        ("blacklisted", "reviewer-1"), ("new", "reviewer-1")]


def test_sign_off_and_flag_keep_the_image_and_are_kept_in_the_history(world, client, get,
                                                                      writer):
    i3 = world.id("images", "i3")
    assert review(client, writer, i3, action="sign_off").status_code == 200
    assert review(client, writer, i3, action="flag", comment="slight ghosting").status_code == 200
    assert get("/images", qc="flagged").get_json()["items"][0]["id"] == i3
    assert get("/images").get_json()["total"] == 8
    body = get(f"/images/{i3}/qc").get_json()
    assert (body["qc_state"], [(r["state"], r["comment"]) for r in body["history"]]) == (
        "flagged", [("signed_off", None), ("flagged", "slight ghosting")])


def test_a_review_needs_the_write_scope_and_a_reason_to_flag_or_blacklist(world, client,
                                                                         auth_headers, writer):
    i1 = world.id("images", "i1")
    assert review(client, auth_headers, i1, action="sign_off").status_code == 403
    missing = review(client, writer, i1, action="blacklist")
    assert (missing.status_code, missing.get_json()["errors"]) == (
        400, {"comment": ["blacklist needs a comment saying why"]})
    unknown = review(client, writer, i1, action="approve")
    assert unknown.status_code == 400 and "action" in str(unknown.get_json()["errors"])
    assert review(client, writer, 999999, action="sign_off").status_code == 404


def test_the_qc_parameter_refuses_an_unknown_state(world, get):
    answer = get("/images", qc="great")
    assert answer.status_code == 400 and "qc" in answer.get_json()["errors"]


@pytest.fixture
def spins(app, seeded, tmp_path):
    return load_datman_tree(app, tmp_path)


def test_completeness_of_a_dataset_and_of_one_visit(spins, get):
    report = get("/qc/completeness", dataset="SPINS").get_json()
    assert [(v["subject"], v["visit"], v["complete"], v["missing"], v["repeated"])
            for v in report["visits"]] == [
        ("SPINS_CMH_0001", "01", True, {}, {"T1": 1}),
        ("SPINS_CMH_0001", "02", True, {}, {}),
        ("SPINS_CMH_0002", "01", False, {"DTI": 1}, {}),
    ]
    assert [p["session"] for p in report["phantoms"]] == ["SPINS_CMH_PHA_FBN0001"]
    incomplete = get("/qc/completeness", dataset="SPINS", complete="false").get_json()
    assert [v["subject"] for v in incomplete["visits"]] == ["SPINS_CMH_0002"]
    assert get("/qc/completeness", dataset="SPINS", site="ZHH").get_json()["visits"] == []

    visit_id = report["visits"][1]["visit_id"]
    one = get(f"/visits/{visit_id}/qc").get_json()
    assert (one["sessions"], one["site"], one["unexpected"]) == (
        ["SPINS_CMH_0001_02_01"], "CMH",
        [{"tag": UNTAGGED, "series_number": 7, "description": "extra_survey",
          "reason": "no tag matched"}])
    assert one["inventory"]["LOC"] == {"count": 1, "series_numbers": [1],
                                       "descriptions": ["localizer"]}


def test_completeness_of_every_dataset_a_bad_dataset_and_a_visit_without_series(spins, world, get):
    unknown = get("/qc/completeness", dataset="NOPE")
    assert (unknown.status_code, unknown.get_json()["errors"]) == (
        400, {"dataset": ["unknown dataset: NOPE"]})
    assert [v["dataset"] for v in get("/qc/completeness").get_json()["visits"]] == ["SPINS"] * 3
    empty = get(f"/visits/{world.id('visits', 'a0')}/qc").get_json()
    assert (empty["complete"], empty["sessions"], empty["inventory"]) == (True, [], {})
    assert get("/visits/999999/qc").status_code == 404


def test_a_tolerance_change_rejudges_the_tag_and_the_drift_filter_follows(app, spins, get,
                                                                         session):
    write_series(spins / "SPINS_CMH_0003_01_01" / "03_T1w", "SPINS_CMH_0003_01_01",
                 "T1w MPRAGE", 3, study_uid=generate_uid(), echo_time=3.2)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["load-dicom", str(spins), "--dataset", "SPINS", "--workers", "1",
                               "--rules", str(spins.parent / "study.yaml")]).exit_code == 0
    t1 = {image.path: image.id for image in session.scalars(
        select(Image).where(Image.type == "T1"))}
    standard = t1["SPINS/SPINS_CMH_0001_01_01/03_T1w MPRAGE"]
    drifting = t1["SPINS/SPINS_CMH_0003_01_01/03_T1w"]
    result = runner.invoke(args=["qc", "gold-standard", "set", str(standard)])
    assert result.output == ("gold standard T1 (site CMH) version 1: 5 images judged, "
                             "1 drifting\n"), result.output
    assert [i["id"] for i in get("/images", drift="true").get_json()["items"]] == [drifting]
    assert get("/images", drift="false").get_json()["total"] == 4
    assert get(f"/images/{drifting}").get_json()["header_drift"] == {
        "standard_version": 1, "drifted": True,
        "differences": [{"field": "EchoTime", "expected": 3.0, "actual": 3.2,
                         "tolerance": None}]}

    result = runner.invoke(args=["qc", "gold-standard", "tolerance", "SPINS", "T1",
                                 "EchoTime=0.25", "--site", "CMH"])
    assert result.output == ("gold standard T1 (site CMH) version 2: 5 images judged, "
                             "0 drifting\n"), result.output
    assert get("/images", drift="true").get_json()["items"] == []
    assert get(f"/images/{drifting}").get_json()["header_drift"] == {
        "standard_version": 2, "drifted": False, "differences": []}
    result = runner.invoke(args=["qc", "gold-standard", "tolerance", "SPINS", "T1",
                                 "EchoTime=0.1", "--site", "CMH"])
    assert result.output.startswith("gold standard T1 (site CMH) version 3: 5 images judged, "
                                    "1 drifting")
    assert [i["id"] for i in get("/images", drift="true").get_json()["items"]] == [drifting]


def test_a_body_that_is_not_json_or_holds_a_nul_is_a_400_naming_it(world, client, writer):
    i1 = world.id("images", "i1")
    answer = client.put(f"/api/v1/images/{i1}/qc", data=b"\x00", headers={
        **writer, "Content-Type": "application/json"})
    assert (answer.status_code, list(answer.get_json()["errors"])) == (400, ["json"])
    answer = review(client, writer, i1, action="flag", comment="a\x00b")
    assert (answer.status_code, answer.get_json()["errors"]) == (
        400, {"comment": ["must not contain NUL characters"]})


def test_a_cohort_saved_after_a_blacklisting_leaves_the_image_out_unless_qc_all(world, client,
                                                                                 writer):
    i1 = world.id("images", "i1")
    assert review(client, writer, i1, action="blacklist", comment="motion").status_code == 200

    def saved(query: dict) -> list[int]:
        answer = client.post("/api/v1/cohorts", json={"name": "c", "query": query},
                             headers=writer)
        assert answer.status_code == 201, answer.get_json()
        cohort = answer.get_json()
        manifest = client.get(f"/api/v1/cohorts/{cohort['id']}/manifest",
                              headers=writer).get_json()
        assert cohort["image_count"] == len(manifest["items"])
        return sorted(item["image_id"] for item in manifest["items"])

    everything = sorted(world.id("images", name) for name in ALL_IMAGES)
    assert saved({}) == [image_id for image_id in everything if image_id != i1]
    assert saved({"qc": "all"}) == everything
