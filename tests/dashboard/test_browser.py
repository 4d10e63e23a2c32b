"""The dashboard and the docs page in a real headless browser (Debian's chromium, driven by
Selenium), against the app served over HTTP: sign in, numbers equal to the API's, plots, saving
a cohort from the filter form, and a docs page that loads nothing from another origin."""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.models import ImageType, Scope, Sex
from app.storage import get_storage
from tests.support.factories import (
    make_api_key,
    make_dataset,
    make_image,
    make_subject,
)
from tests.support.files import small_nifti
from tests.support.measure_world import add_measures
from tests.support.servers import LiveServer
from tests.support.world import build_world

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--window-size=1280,1600")
WAIT_SECONDS = 20

pytestmark = pytest.mark.storage("local")


@pytest.fixture(scope="module")
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[webdriver.Chrome]:
    """Headless chromium with a fresh profile (`make test` installs it when missing)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install chromium and chromium-driver (make test does)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def api(server: LiveServer, token: str, path: str, **params):
    return requests.get(f"{server.url}/api/v1{path}", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {token}"}).json()


def text_of(browser, element_id: str) -> str:
    return WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))).text


def test_sign_in_numbers_plots_and_saving_a_cohort(browser, live_server, session, app,
                                                   tmp_path_factory):
    build_world(session)
    _, token = make_api_key(session, name="browser",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()

    browser.get(f"{live_server.url}/dashboard/")
    assert browser.current_url == f"{live_server.url}/dashboard/login"
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "sign-in").click()
    assert text_of(browser, "key-name") == "browser"
    assert token not in browser.current_url

    stats = api(live_server, token, "/stats")
    assert int(text_of(browser, "total-images")) == stats["images"] == 8
    assert int(text_of(browser, "total-subjects")) == stats["subjects"]
    for dataset in api(live_server, token, "/datasets")["items"]:
        row = browser.find_element(By.CSS_SELECTOR, f'tr[data-dataset="{dataset["designation"]}"]')
        shown = {cell.get_attribute("data-count"): int(cell.text)
                 for cell in row.find_elements(By.CSS_SELECTOR, "td[data-count]")}
        assert shown["subjects"] == dataset["subject_count"]
        assert shown["visits"] == dataset["visit_count"]
        assert shown["images"] == dataset["image_count"]
    plots = browser.find_elements(By.CSS_SELECTOR, "svg.plot")
    assert len(plots) == 2 and all(plot.find_elements(By.TAG_NAME, "rect") for plot in plots)
    screenshot = Path(tmp_path_factory.getbasetemp()) / "dashboard-overview.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000

    # The filter form counts as soon as a field changes (its script submits it).
    browser.get(f"{live_server.url}/dashboard/explore?type=T1")
    Select(browser.find_element(By.ID, "sex")).select_by_visible_text("female")
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: "sex=female" in page.current_url)
    expected = api(live_server, token, "/images", type="T1", sex="female")["total"]
    assert int(text_of(browser, "match-images")) == expected == 4
    browser.find_element(By.ID, "cohort-name").send_keys("T1 women")
    browser.find_element(By.ID, "save").click()
    assert text_of(browser, "cohort-title") == "T1 women"
    cohorts = api(live_server, token, "/cohorts")["items"]
    assert [(c["name"], c["image_count"]) for c in cohorts] == [("T1 women", 4)]
    assert text_of(browser, "cohort-sha256") == cohorts[0]["manifest_sha256"]
    browser.save_screenshot(str(screenshot.with_name("dashboard-cohort.png")))


def sign_in(browser, server: LiveServer, token: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{server.url}/dashboard/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "sign-in").click()
    text_of(browser, "key-name")


def shown_rows(browser) -> dict[str, list[str]]:
    """The filter page's listed images: {image id: [its measure cells' text]}."""
    return {row.get_attribute("data-image"): [
        cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td[data-measure]")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")}


def test_filtering_by_a_measure_lists_it_keeps_it_in_the_url_and_in_the_cohort(
        browser, live_server, session, tmp_path_factory):
    world = build_world(session)
    add_measures(session, world)
    _, token = make_api_key(session, name="measurer", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    sign_in(browser, live_server, token)

    browser.get(f"{live_server.url}/dashboard/explore?type=T1")
    Select(browser.find_element(By.ID, "measure-name")).select_by_value("MMSE")
    Select(browser.find_element(By.ID, "measure-op")).select_by_visible_text("<")
    browser.find_element(By.ID, "measure-value").send_keys("24")
    assert "MMSE" not in browser.current_url  # the row waits for its Add button
    browser.find_element(By.ID, "add-measure").click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: "measure=MMSE%3C24" in page.current_url)
    filtered = browser.current_url
    expected = api(live_server, token, "/images", type="T1", measure="MMSE<24")["total"]
    assert int(text_of(browser, "match-images")) == expected == 2
    i6, i8 = str(world.id("images", "i6")), str(world.id("images", "i8"))
    assert shown_rows(browser) == {i6: ["21 (day 0)"], i8: ["23 (day 0)"]}

    # A second filter, then a measure shown as a column: each is a URL of its own.
    Select(browser.find_element(By.ID, "measure-name")).select_by_value("MMSE")
    Select(browser.find_element(By.ID, "measure-op")).select_by_visible_text(">=")
    browser.find_element(By.ID, "measure-value").send_keys("22\n")
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: "MMSE%3E%3D22" in page.current_url)
    assert int(text_of(browser, "match-images")) == 1 and list(shown_rows(browser)) == [i8]
    Select(browser.find_element(By.ID, "measures")).select_by_value("CDR_GLOBAL")
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: "measures=CDR_GLOBAL" in page.current_url)
    assert shown_rows(browser) == {i8: ["0.5 (day 100)", "23 (day 0)"]}
    browser.save_screenshot(str(tmp_path_factory.getbasetemp() / "dashboard-measures.png"))
    browser.back()
    browser.back()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: page.current_url == filtered)
    assert int(text_of(browser, "match-images")) == 2

    # Unticking a filter drops it; the cohort saved keeps the one left.
    browser.get(f"{live_server.url}/dashboard/explore?type=T1&measure=MMSE%3C24"
                "&measure=MMSE%3E%3D22")
    browser.find_element(By.CSS_SELECTOR, 'input[name="measure"][value="MMSE>=22"]').click()
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda page: "MMSE%3E%3D22" not in page.current_url)
    assert int(text_of(browser, "match-images")) == 2
    browser.find_element(By.ID, "cohort-name").send_keys("low MMSE")
    browser.find_element(By.ID, "save").click()
    assert text_of(browser, "cohort-title") == "low MMSE"
    cohorts = api(live_server, token, "/cohorts")["items"]
    assert [(c["name"], c["image_count"], c["query"]) for c in cohorts] == [
        ("low MMSE", 2, {"type": ["T1"], "measure": ["MMSE<24"]})]


def test_a_counts_only_key_sees_plots_and_counts_with_small_ones_hidden(browser, live_server,
                                                                       session):
    build_world(session)
    _, token = make_api_key(session, name="counter", scopes=[Scope.AGGREGATE])
    session.commit()
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/dashboard/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "sign-in").click()
    assert text_of(browser, "key-name") == "counter"
    stats = api(live_server, token, "/stats")
    assert int(text_of(browser, "total-images")) == stats["images"] == 8
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-dataset="ALPHA"]')
    assert [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td[data-count]")][:3] == \
        ["<5", "<5", "<5"]
    plots = browser.find_elements(By.CSS_SELECTOR, "svg.plot")
    # Images per dataset: ALPHA's T1 and DWI, BETA's three types are each under 5: each bar
    # says at least how many it holds.
    assert len(plots) == 2 and "ALPHA\n≥2\nBETA\n≥3" in plots[0].text
    # Subjects per dataset and sex: every count under 5, so each bar gives its lower bound.
    assert "ALPHA\n≥2\nBETA\n≥2" in plots[1].text
    assert "<5" in browser.find_element(By.ID, "ages").text
    assert not browser.find_elements(By.CSS_SELECTOR, 'a[href*="cohorts"]')

    browser.get(f"{live_server.url}/dashboard/explore?type=T1")
    Select(browser.find_element(By.ID, "sex")).select_by_visible_text("female")
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: "sex=female" in page.current_url)
    assert text_of(browser, "match-images") == "<5"
    assert not browser.find_elements(By.ID, "export-csv")
    assert not browser.find_elements(By.ID, "save")


def listed(browser) -> list[int]:
    """The image ids of the explore table's rows, in order."""
    return browser.execute_script("return [...document.querySelectorAll('#rows tbody tr')]"
                                  ".map(row => Number(row.dataset.image))")


def wait_for_rows(browser, expected: list[int]) -> None:
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: listed(page) == expected)


def test_explore_filter_in_place_review_save_reload_and_download(browser, live_server, session,
                                                               tmp_path_factory):
    """Filters update the table in place and live in the URL; a typed age_max is kept; a
    reviewer blacklists an image; the cohort saved holds every filter; it downloads."""
    world = build_world(session)
    nifti = small_nifti()
    get_storage().put(world.images["i1"].path, nifti)
    _, token = make_api_key(session, name="explorer",
                            scopes=[Scope.READ, Scope.WRITE, Scope.DOWNLOAD])
    session.commit()
    sign_in(browser, live_server, token)
    i1, i2, i3, i4 = (world.id("images", name) for name in ("i1", "i2", "i3", "i4"))

    browser.get(f"{live_server.url}/dashboard/explore")
    browser.execute_script("window.notReloaded = true")
    Select(browser.find_element(By.CSS_SELECTOR, 'select[name="dataset"]')
           ).select_by_visible_text("ALPHA")
    wait_for_rows(browser, [i1, i2, i3, i4])
    browser.find_element(By.CSS_SELECTOR, 'input[name="type"][value="T1"]').click()
    wait_for_rows(browser, [i1, i3, i4])
    # A value typed and at once followed by another filter is applied with it, never lost.
    browser.find_element(By.ID, "age_max").send_keys("75")
    Select(browser.find_element(By.ID, "sex")).select_by_visible_text("female")
    wait_for_rows(browser, [i1, i3])
    assert "age_max=75" in browser.current_url and "sex=female" in browser.current_url
    assert browser.find_element(By.ID, "age_max").get_attribute("value") == "75"
    assert browser.execute_script("return window.notReloaded") is True
    expected = api(live_server, token, "/images", dataset="ALPHA", type="T1", sex="female",
                   age_max=75)
    assert [item["id"] for item in expected["items"]] == [i1, i3]
    assert int(text_of(browser, "match-images")) == expected["total"] == 2
    # Each row's thumbnail loads: i1's preview, i3's placeholder (no file): never broken.
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: page.execute_script(
        "return [...document.querySelectorAll('img.thumb')].map("
        "img => img.complete && img.naturalWidth > 0)") == [True, True])
    states = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.qc-state")]
    assert states == ["new", "new"]
    browser.save_screenshot(str(tmp_path_factory.getbasetemp() / "dashboard-explore.png"))

    # Sorting loads in place too, and the back button returns to the order before.
    filtered = browser.current_url
    browser.find_element(By.CSS_SELECTOR, 'th[data-sort="age_at_scan"] a').click()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: page.find_elements(
        By.CSS_SELECTOR, 'th[data-sort="age_at_scan"][aria-sort="ascending"]'))
    browser.find_element(By.CSS_SELECTOR, 'th[data-sort="age_at_scan"] a').click()
    wait_for_rows(browser, [i3, i1])
    assert "sort=-age_at_scan" in browser.current_url
    browser.back()
    browser.back()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda page: page.current_url == filtered)
    wait_for_rows(browser, [i1, i3])
    assert browser.execute_script("return window.notReloaded") is True

    # A reload shows the same filters and results.
    browser.refresh()
    wait_for_rows(browser, [i1, i3])
    assert [option.text for option in Select(browser.find_element(
        By.CSS_SELECTOR, 'select[name="dataset"]')).all_selected_options] == ["ALPHA"]
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="type"][value="T1"]').is_selected()
    assert Select(browser.find_element(By.ID, "sex")).first_selected_option.text == "female"
    assert browser.find_element(By.ID, "age_max").get_attribute("value") == "75"

    # Blacklist i3 with a comment: it leaves the table; its history holds the reason.
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-image="{i3}"]')
    Select(row.find_element(By.NAME, "action")).select_by_value("blacklist")
    row.find_element(By.NAME, "comment").send_keys("motion in every slice")
    row.find_element(By.CSS_SELECTOR, "form.review button").click()
    wait_for_rows(browser, [i1])
    assert browser.current_url == filtered
    history = api(live_server, token, f"/images/{i3}/qc")
    assert history["qc_state"] == "blacklisted"
    assert [(review["state"], review["comment"], review["author"])
            for review in history["history"]] == [
        ("blacklisted", "motion in every slice", "explorer")]

    # The cohort saved keeps every filter, age_max too.
    browser.find_element(By.ID, "cohort-name").send_keys("ALPHA women up to 75")
    browser.find_element(By.ID, "save").click()
    assert text_of(browser, "cohort-title") == "ALPHA women up to 75"
    cohorts = api(live_server, token, "/cohorts")["items"]
    assert [(cohort["image_count"], cohort["query"]) for cohort in cohorts] == [
        (1, {"dataset": ["ALPHA"], "type": ["T1"], "sex": ["female"], "age_max": ["75"]})]
    # Its download links work with the browser's session (no token).
    signed_in = requests.Session()
    for cookie in browser.get_cookies():
        signed_in.cookies.set(cookie["name"], cookie["value"])
    link = browser.find_element(By.ID, "download-files").get_attribute("href")
    files = zipfile.ZipFile(io.BytesIO(signed_in.get(link, timeout=30).content))
    assert {name: files.read(name) for name in files.namelist()} == {
        world.images["i1"].path: nifti}
    manifest = signed_in.get(browser.find_element(By.ID, "download-manifest-csv")
                             .get_attribute("href"), timeout=30).text
    assert [row["image_id"] for row in csv.DictReader(io.StringIO(manifest))] == [str(i1)]
    browser.save_screenshot(str(tmp_path_factory.getbasetemp() / "dashboard-cohort-page.png"))


# The seed list's thirteen studies, long names included, as the overview must show them.
STUDIES = ("OASIS", "ADNI", "HCP", "HCA", "UK Biobank", "PPMI", "OpenPain", "AIBL", "CamCAN",
           "SALD", "NKI-RS", "PREDICT-HD", "OMI-DB")


def overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    """The pairs of element rectangles (x, y, width, height) that intersect."""
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


def inside(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] and inner["y"] >= outer["y"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


def test_thirteen_datasets_keep_every_label_and_legend_readable(browser, live_server, session):
    """Charts sized to the page: no two axis labels overlap, no legend entry is cut, every
    dataset with images is a row of each chart, and a dataset without images is folded away."""
    types = list(ImageType)
    for n, designation in enumerate(STUDIES):
        dataset = make_dataset(session, designation=designation)
        for k in range(1 + n % 4):
            subject = make_subject(session, dataset=dataset, sex=list(Sex)[k % 4],
                                   age_at_baseline=20.0 + 6 * n)
            make_image(session, subject=subject, type=types[(n + k) % len(types)])
    make_dataset(session, designation="Empty study")
    _, token = make_api_key(session, name="thirteen", scopes=[Scope.READ])
    session.commit()
    sign_in(browser, live_server, token)
    for width in (1280, 800):
        browser.set_window_size(width, 1600)
        browser.get(f"{live_server.url}/dashboard/")
        charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart")
        assert len(charts) == 2
        for chart in charts:
            svg = chart.find_element(By.CSS_SELECTOR, "svg.plot")
            labels = svg.find_elements(By.CSS_SELECTOR, "text.label")
            assert [label.text for label in labels] == list(STUDIES)
            boxes = [label.rect for label in labels]
            assert overlapping(boxes) == []
            assert all(inside(box, svg.rect) for box in boxes)
            entries = chart.find_elements(By.CSS_SELECTOR, "ul.legend li")
            assert len(entries) in (len(types), len(Sex))
            assert all(entry.is_displayed() and inside(entry.rect, chart.rect)
                       for entry in entries)
            assert overlapping([entry.rect for entry in entries]) == []
        assert [row.get_attribute("data-row") for row in browser.find_elements(
            By.CSS_SELECTOR, "#ages tbody tr")] == list(STUDIES)
        folded = browser.find_element(By.ID, "datasets-without-images")
        assert folded.get_attribute("open") is None
        assert folded.find_element(By.TAG_NAME, "summary").text == "1 dataset without images"
        empty_row = '#datasets tr[data-dataset="Empty study"]'
        assert not browser.find_elements(By.CSS_SELECTOR, empty_row)


def test_the_docs_page_renders_from_the_apps_own_files(browser, live_server):
    browser.get(f"{live_server.url}/api/v1/docs")
    title = WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .title")))
    assert "MBID-db" in title.text
    WebDriverWait(browser, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)")
    assert loaded and all(url.startswith(live_server.url + "/") for url in loaded), loaded
