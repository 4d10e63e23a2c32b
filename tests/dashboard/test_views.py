"""The dashboard without a browser: sign-in, what a key sees, forms, exports and cohorts."""
from __future__ import annotations

import base64
import csv
import io
import re
import zipfile

import pyarrow.parquet as pq
import pytest
from werkzeug.datastructures import MultiDict

from app.dashboard.plots import bar_chart
from app.dashboard.views import age_table, new_measure_filter
from app.models import AuditAction, AuditEvent, Cohort, QcReview, QcState, Scope
from app.storage import get_storage
from tests.support.factories import make_api_key
from tests.support.files import small_nifti
from tests.support.measure_world import add_measures
from tests.support.world import age, build_world, store_image_files

pytestmark = pytest.mark.storage("local")


@pytest.fixture
def world(session):
    return build_world(session)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def sign_in(client, token: str):
    page = client.get("/dashboard/login").get_data(as_text=True)
    return client.post("/dashboard/login", data={"token": token, "csrf": csrf_of(page)})


@pytest.fixture
def researcher(client, session, world):
    """A test client signed in with a read + write + download key."""
    _, token = make_api_key(session, name="researcher",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    assert sign_in(client, token).status_code == 302
    return client


def test_pages_need_a_sign_in_and_the_token_never_appears_in_a_url(client, session, world):
    assert client.get("/dashboard/").headers["Location"] == "/dashboard/login"
    _, token = make_api_key(session, name="someone")
    session.commit()
    answer = sign_in(client, token)
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/"
    assert token not in answer.headers["Location"]
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert token not in cookie and token[5:15] not in base64.urlsafe_b64decode(
        cookie.split("=", 1)[1].split(".")[0] + "==").decode()
    assert client.get("/dashboard/").status_code == 200


def test_a_wrong_token_or_a_missing_form_token_is_refused(client, session, world):
    answer = sign_in(client, "mbid_wrong")
    assert answer.status_code == 401 and "Unknown, revoked or expired" in answer.get_data(
        as_text=True)
    _, token = make_api_key(session)
    session.commit()
    assert client.post("/dashboard/login", data={"token": token}).status_code == 400


def test_the_overview_shows_the_apis_numbers(researcher, world):
    page = researcher.get("/dashboard/").get_data(as_text=True)
    assert '<span id="total-images">8</span>' in page
    assert '<span id="total-subjects">5</span>' in page
    assert re.search(r'data-dataset="ALPHA">\s*<td>ALPHA</td>\s*<td data-count="subjects">2</td>'
                     r'\s*<td data-count="visits">3</td>\s*<td data-count="images">4</td>', page)
    assert page.count("<svg") == 2  # images per dataset and type; subjects per dataset and sex
    # Images by age at scan, one row per dataset: ALPHA's four at 55 and 70 (ann's i3 two
    # years on), BETA's 62.5, 80 and the unknown ages left out.
    ages = re.search(r'<table id="ages".*?</table>', page, re.S).group(0)
    assert re.findall(r"<th>([^<]*)</th>", ages) == [
        "", "50-59", "60-69", "70-79", "80-89", "ALPHA", "BETA"]
    assert "datasets-without-images" not in page
    assert "GONE" not in page


def test_a_key_sees_only_its_datasets(client, session, world):
    _, token = make_api_key(session, name="beta-only", datasets=[world.datasets["BETA"]])
    session.commit()
    sign_in(client, token)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert '<span id="total-images">4</span>' in page and 'data-dataset="ALPHA"' not in page


def test_the_form_counts_exports_and_saves_a_cohort(researcher, session, world):
    page = researcher.get("/dashboard/explore?type=T1&sex=female&age_min=60")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<span id="match-images">4</span>' in text
    rows = list(csv.DictReader(io.StringIO(researcher.get(
        "/dashboard/export.csv?type=T1&sex=female&age_min=60").get_data(as_text=True))))
    assert world.names("images", [int(row["id"]) for row in rows]) == ["i1", "i3", "i6", "i8"]
    table = pq.read_table(io.BytesIO(researcher.get(
        "/dashboard/export.parquet?type=T1&sex=female&age_min=60").get_data()))
    assert table.column("id").to_pylist() == [int(row["id"]) for row in rows]

    saved = researcher.post("/dashboard/cohorts", data={
        "csrf": csrf_of(text), "name": "older women", "type": "T1", "sex": "female",
        "age_min": "60"})
    assert saved.status_code == 302
    cohort = session.query(Cohort).one()
    assert (cohort.name, cohort.image_count, cohort.key_name) == ("older women", 4, "researcher")
    assert saved.headers["Location"] == f"/dashboard/cohorts/{cohort.id}"
    page = researcher.get(saved.headers["Location"]).get_data(as_text=True)
    assert cohort.manifest_sha256 in page and "0 added, 0 removed" in page
    session.expire_all()
    assert session.query(AuditEvent).filter_by(action="export").count() == 2


def test_a_new_measure_row_becomes_a_filter_in_the_url(researcher, session, world):
    add_measures(session, world)
    answer = researcher.get("/dashboard/explore?type=T1&measure=MMSE%3E%3D22&measure_name=MMSE"
                            "&measure_op=%3C&measure_value=24")
    assert answer.status_code == 302 and answer.headers["Location"] == (
        "/dashboard/explore?type=T1&measure=MMSE%3E%3D22&measure=MMSE%3C24")
    text = researcher.get(answer.headers["Location"]).get_data(as_text=True)
    assert '<span id="match-images">1</span>' in text
    assert 'name="measure" value="MMSE&gt;=22" checked' in text
    assert '<input type="hidden" name="measure" value="MMSE&lt;24" class="filter">' in text
    assert re.findall(r'<tr data-image="(\d+)">', text) == [str(world.id("images", "i8"))]
    assert '<td data-measure="MMSE" data-day="0">23 <small>(day 0)</small></td>' in text
    rows = list(csv.DictReader(io.StringIO(researcher.get(
        "/dashboard/export.csv?measure=MMSE%3C24&measures=HANDEDNESS").get_data(as_text=True))))
    assert [(row["MMSE"], row["MMSE_day"], row["HANDEDNESS"]) for row in rows] == [
        ("21.0", "0", ""), ("21.0", "0", ""), ("23.0", "0", "left")]


@pytest.mark.parametrize(("values", "expected"), [
    ({"measure_name": "MMSE", "measure_op": "<", "measure_value": " 24 "}, "MMSE<24"),
    ({"measure_name": "CDR_GLOBAL", "measure_op": "=", "measure_value": "0.5,1"},
     "CDR_GLOBAL=0.5,1"),
    ({"measure_name": "MMSE", "measure_op": "<", "measure_value": ""}, None),
    ({"measure_name": "", "measure_op": "<", "measure_value": "3"}, None),
    ({}, None)])
def test_the_new_measure_row_is_a_filter_once_complete(values, expected):
    assert new_measure_filter(MultiDict(values)) == expected


def test_a_bad_measure_filter_is_shown(researcher, session, world):
    add_measures(session, world)
    page = researcher.get("/dashboard/explore?measure=MMSE%3Cmany")
    assert page.status_code == 400 and "measure" in page.get_data(as_text=True)


@pytest.fixture
def counter(client, session, world):
    """A test client signed in with a counts-only (aggregate) key."""
    _, token = make_api_key(session, name="counter", scopes=[Scope.AGGREGATE])
    session.commit()
    assert sign_in(client, token).status_code == 302
    return client


def test_a_counts_only_key_sees_counts_with_small_ones_as_less_than_five(counter, world):
    page = counter.get("/dashboard/").get_data(as_text=True)
    assert '<span id="total-images">8</span>' in page
    assert '<span id="total-subjects">5</span>' in page
    assert re.search(r'data-dataset="ALPHA">\s*<td>ALPHA</td>\s*<td data-count="subjects">&lt;5'
                     r'</td>\s*<td data-count="visits">&lt;5</td>\s*<td data-count="images">'
                     r'&lt;5</td>', page)
    assert '<td class="group-images">&lt;5</td>' in page
    assert page.count("<svg") == 2
    assert "/dashboard/cohorts" not in page
    explore = counter.get("/dashboard/explore?type=T1&sex=female&age_min=60")
    text = explore.get_data(as_text=True)
    assert explore.status_code == 200 and '<span id="match-images">&lt;5</span>' in text
    assert 'id="counts-only"' in text
    assert "export.csv" not in text and "save-cohort" not in text


def test_a_counts_only_key_filters_by_a_measure_and_sees_no_rows(counter, session, world):
    add_measures(session, world)
    text = counter.get("/dashboard/explore?measure=MMSE%3C24&measures=HANDEDNESS").get_data(
        as_text=True)
    assert '<span id="match-images">&lt;5</span>' in text and 'id="rows"' not in text


@pytest.mark.parametrize("path", [
    "/dashboard/export.csv", "/dashboard/export.parquet", "/dashboard/cohorts",
    "/dashboard/cohorts/1", "/dashboard/images/1/preview.png", "/dashboard/images/1/download",
    "/dashboard/cohorts/1/manifest.csv", "/dashboard/cohorts/1/download",
    "/dashboard/cohorts/1/bids.zip", "/dashboard/cohorts/1/delete"])
def test_a_counts_only_key_opens_no_rows(counter, path):
    answer = counter.get(path)
    assert answer.status_code == 403
    assert "counts-only &#39;aggregate&#39; scope" in answer.get_data(as_text=True)


def test_a_bad_filter_is_shown_not_crashed(researcher, world):
    page = researcher.get("/dashboard/explore?age_min=90&age_max=10")
    assert page.status_code == 400 and "must not exceed age_max" in page.get_data(as_text=True)


def test_saving_needs_the_write_scope_and_the_form_token(client, session, world):
    _, token = make_api_key(session, name="reader", scopes=[Scope.READ])
    session.commit()
    sign_in(client, token)
    text = client.get("/dashboard/explore").get_data(as_text=True)
    assert "needs a key with the 'write' scope" in text
    assert client.post("/dashboard/cohorts", data={"name": "x"}).status_code == 400
    answer = client.post("/dashboard/cohorts", data={"name": "x", "csrf": csrf_of(text)})
    assert answer.status_code == 403 and session.query(Cohort).count() == 0


def test_pages_carry_a_strict_csp(researcher, world):
    headers = researcher.get("/dashboard/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "http" not in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_the_age_table_has_every_bin_between_the_youngest_and_the_oldest():
    first = [{"age_min": 50, "age_max": 60, "images": 1},
             {"age_min": 90, "age_max": None, "images": 2},
             {"age_min": None, "age_max": None, "images": 7}]
    second = [{"age_min": 60, "age_max": 70, "images": "<5"}]
    assert age_table([first, second]) == (
        ["50-59", "60-69", "70-79", "80-89", "90+"], [[1, 0, 0, 0, 2], [0, "<5", 0, 0, 0]])
    assert age_table([[], []]) == ([], [[], []])


def test_a_bar_with_suppressed_counts_is_labelled_with_what_is_known():
    chart = str(bar_chart("t", ["a", "b", "c"], {"x": [3, "<5", "<5"], "y": [0, 0, "<5"]}))
    labels = re.findall(r'class="label"[^>]*>([^<]*)</text>', chart)
    totals = re.findall(r'class="total"[^>]*>([^<]*)</text>', chart)
    assert (labels, totals) == (["a", "b", "c"], ["3", "&lt;5", "≥2"])
    assert chart.count("<rect") == 1  # the one known, non-zero segment
    assert re.findall(r"</span>([^<]*)</li>", chart) == ["x", "y"]  # the legend, in HTML


def test_rows_of_a_chart_never_share_a_line_however_many_labels():
    labels = [f"dataset {n}" for n in range(13)]
    chart = str(bar_chart("t", labels, {"x": list(range(13))}))
    ys = [float(y) for y in re.findall(r'class="label" x="[^"]*" y="([^"]*)"', chart)]
    assert len(ys) == 13 and all(b - a >= 24 for a, b in zip(ys, ys[1:], strict=False))
    assert "legend" not in chart  # one series: no legend needed




# The explore table, previews, downloads and QC reviews ---------------------------------------

def row_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-image="(\d+)">', page)]


def test_the_table_pages_and_sorts_as_images_does(researcher, world):
    # Ages at scan from the world's baselines and scan days; dan's (i7) is unknown: last.
    ages = {name: age(*known) for name, known in {
        "i1": (70.0, 0), "i2": (70.0, 0), "i3": (70.0, 730), "i4": (55.0, 0),
        "i5": (62.5, 365), "i6": (62.5, 0), "i8": (80.0, 100)}.items()}
    oldest_first = sorted(ages, key=lambda name: (-ages[name], world.id("images", name)))
    expected = [*oldest_first, "i7"]
    pages = []
    for number in (1, 2, 3):
        text = researcher.get(f"/dashboard/explore?sort=-age_at_scan&per_page=3&page={number}"
                              ).get_data(as_text=True)
        pages.append(world.names("images", row_ids(text)))
        assert f'<span id="page-number">page {number} of 3</span>' in text
        assert ('id="next-page"' in text) == (number < 3)
        assert ('id="previous-page"' in text) == (number > 1)
    assert pages == [expected[0:3], expected[3:6], expected[6:8]]
    # Its links keep the filters, the sort and the page size; a header's link reverses it.
    text = researcher.get("/dashboard/explore?type=T1&sort=age_at_scan&per_page=2"
                          ).get_data(as_text=True)
    assert ('href="/dashboard/explore?type=T1&amp;sort=age_at_scan&amp;per_page=2&amp;page=2"'
            in text)
    assert 'href="/dashboard/explore?type=T1&amp;sort=-age_at_scan&amp;per_page=2">' in text
    assert world.names("images", row_ids(text)) == ["i4", "i6"]
    bad = researcher.get("/dashboard/explore?sort=path&page=0")
    assert bad.status_code == 400
    message = re.search(r'<p class="error" id="error">([^<]*)</p>', bad.get_data(as_text=True))[1]
    assert message.startswith("page: ") and "; sort: Must be one of: id, dataset," in message


def test_previews_downloads_and_their_scopes(researcher, client, session, world):
    storage = get_storage()
    storage.put(world.images["i1"].path, small_nifti())
    storage.put(world.images["i3"].path, b"bytes of i3")
    i1, i2, i3 = (world.id("images", name) for name in ("i1", "i2", "i3"))
    text = researcher.get("/dashboard/explore?type=T1").get_data(as_text=True)
    assert f'src="/dashboard/images/{i1}/preview.png"' in text and 'loading="lazy"' in text
    assert f'href="/dashboard/images/{i1}/download"' in text
    preview = researcher.get(f"/dashboard/images/{i1}/preview.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.data[:8] == b"\x89PNG\r\n\x1a\n"
    for image_id, why in ((i2, "404"), (i3, "422")):  # no file; not a NIfTI file
        placeholder = researcher.get(f"/dashboard/images/{image_id}/preview.png")
        assert placeholder.status_code == 200 and placeholder.mimetype == "image/svg+xml"
        assert placeholder.headers["X-Preview"] == f"none ({why})"
    download = researcher.get(f"/dashboard/images/{i3}/download")
    assert download.status_code == 200 and download.data == b"bytes of i3"
    assert researcher.get(f"/dashboard/images/{i2}/download").status_code == 404
    session.expire_all()
    assert [(event.action.value, event.image_ids) for event in session.query(AuditEvent).filter(
        AuditEvent.action.in_([AuditAction.PREVIEW, AuditAction.DOWNLOAD]))] == [
        ("preview", [i1]), ("download", [i3])]

    _, token = make_api_key(session, name="reader", scopes=[Scope.READ])
    session.commit()
    sign_in(client, token)
    text = client.get("/dashboard/explore?type=T1").get_data(as_text=True)
    assert "/preview.png" not in text and "/download" not in text and 'class="review"' not in text
    assert text.count('<span class="no-preview">no preview</span>') == 5
    for path in (f"/dashboard/images/{i1}/preview.png", f"/dashboard/images/{i1}/download"):
        assert client.get(path).status_code == 403


def test_a_reviewer_blacklists_an_image_with_a_comment(researcher, session, world):
    i6 = world.id("images", "i6")
    page = researcher.get("/dashboard/explore?type=T1").get_data(as_text=True)
    assert f'action="/dashboard/images/{i6}/qc"' in page
    form = {"csrf": csrf_of(page), "action": "blacklist", "next": "/dashboard/explore?type=T1"}
    path = f"/dashboard/images/{i6}/qc"
    assert researcher.post(path, data={**form, "csrf": ""}).status_code == 400
    refused = researcher.post(path, data=form)  # a blacklisting needs its reason
    assert refused.status_code == 400 and "blacklist needs a comment" in refused.get_data(
        as_text=True)
    assert researcher.post(path, data={**form, "action": "burn"}).status_code == 400
    done = researcher.post(path, data={**form, "comment": "motion in every slice"})
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard/explore?type=T1"
    session.expire_all()
    review = session.query(QcReview).one()
    assert (review.image_id, review.state, review.comment, review.author) == (
        i6, QcState.BLACKLISTED, "motion in every slice", "researcher")
    assert session.query(AuditEvent).filter_by(action=AuditAction.QC_REVIEW).count() == 1
    # Hidden from the table by default, shown with its state when asked for.
    assert i6 not in row_ids(researcher.get("/dashboard/explore?type=T1").get_data(as_text=True))
    text = researcher.get("/dashboard/explore?type=T1&qc=blacklisted").get_data(as_text=True)
    assert row_ids(text) == [i6] and '<td class="qc-state">blacklisted</td>' in text
    # A review returns to the explore page only, never elsewhere.
    reset = researcher.post(path, data={**form, "action": "reset", "next": "https://x.example/"})
    assert reset.headers["Location"] == "/dashboard/explore"
    assert researcher.post("/dashboard/images/999999/qc", data={
        **form, "action": "sign_off"}).status_code == 404


def test_a_cohort_downloads_shows_its_diff_and_is_deleted_after_a_confirm(
        researcher, session, world):
    contents = store_image_files(world)
    page = researcher.get("/dashboard/explore").get_data(as_text=True)
    saved = researcher.post("/dashboard/cohorts", data={
        "csrf": csrf_of(page), "name": "women", "type": "T1", "sex": "female"})
    cohort = session.query(Cohort).one()
    base = f"/dashboard/cohorts/{cohort.id}"
    women = ["i1", "i3", "i6", "i8"]
    rows = list(csv.DictReader(io.StringIO(researcher.get(f"{base}/manifest.csv").get_data(
        as_text=True))))
    assert world.names("images", [int(row["image_id"]) for row in rows]) == women
    document = researcher.get(f"{base}/manifest.json").get_json()
    assert document["manifest_sha256"] == cohort.manifest_sha256
    assert [item["path"] for item in document["items"]] == [row["path"] for row in rows]
    files = zipfile.ZipFile(io.BytesIO(researcher.get(f"{base}/download").data))
    assert {name: files.read(name) for name in files.namelist()} == {
        world.images[name].path: contents[name] for name in women}
    bids = researcher.get(f"{base}/bids.zip")
    assert bids.status_code == 200 and bids.mimetype == "application/zip"
    assert "dataset_description.json" in zipfile.ZipFile(io.BytesIO(bids.data)).namelist()

    # Blacklisting i8 takes it out of the query's answer today: the diff says so.
    researcher.post(f"/dashboard/images/{world.id('images', 'i8')}/qc", data={
        "csrf": csrf_of(page), "action": "blacklist", "comment": "wrong subject"})
    text = researcher.get(saved.headers["Location"]).get_data(as_text=True)
    assert "0 added, 1 removed, 0 changed" in text
    assert row_ids(re.search(r'<table id="diff-removed".*?</table>', text, re.S)[0]) == [
        world.id("images", "i8")]
    assert f'href="{base}/delete"' in text

    confirm = researcher.get(f"{base}/delete").get_data(as_text=True)
    assert "Delete the cohort “women”?" in confirm and session.query(Cohort).count() == 1
    assert researcher.post(f"{base}/delete", data={}).status_code == 400
    deleted = researcher.post(f"{base}/delete", data={"csrf": csrf_of(confirm)})
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/dashboard/cohorts"
    session.expire_all()
    assert session.query(Cohort).count() == 0
    assert session.query(AuditEvent).filter_by(action=AuditAction.COHORT_DELETE).count() == 1
    assert researcher.get(f"{base}/manifest.csv").status_code == 404
