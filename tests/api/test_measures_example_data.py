"""Measure queries over OASIS's example data equal what pandas computes from its source CSVs.

The expected answers are worked out here from data/OASIS's clinical CSV and the sessions named
in its BIDS paths, with the rules of docs/api.md ("Querying by measures"), not through the
loader or the query layer.
"""
import re

import pandas as pd
import pytest

from globals import DATA_DIR
from tests.support.examples import load_examples

CLINICAL_CSV = DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv"
WINDOW_DAYS = 365
SESSION_DAY = re.compile(r"/sub-(?P<subject>OAS3\d{4})/ses-d(?P<day>\d+)/")


def clinical_visits() -> pd.DataFrame:
    """The clinical CSV: subject, day since entry (from the visit id), mmse and cdr (NaN blank)."""
    table = pd.read_csv(CLINICAL_CSV)
    day = table["ADRC_ADRCCLINICALDATA ID"].str.extract(r"_d(\d+)$")[0].astype(int)
    return pd.DataFrame({"subject": table["Subject"], "day": day,
                         "mmse": pd.to_numeric(table["mmse"]),
                         "cdr": pd.to_numeric(table["cdr"])})


def mmse_at_scan(visits: pd.DataFrame, subject: str, scan_day: int) -> float | None:
    """The MMSE that counts for a scan: the one of the clinical visit the scan belongs to (the
    latest on or before it), else the latest given within the window before the scan."""
    before = visits[(visits["subject"] == subject) & (visits["day"] <= scan_day)]
    if before.empty:
        return None
    own = before.loc[before["day"].idxmax(), "mmse"]
    if not pd.isna(own):
        return float(own)
    recent = before[(before["day"] >= scan_day - WINDOW_DAYS) & before["mmse"].notna()]
    return None if recent.empty else float(recent.loc[recent["day"].idxmax(), "mmse"])


@pytest.fixture
def oasis(app, session):
    load_examples(app)


def test_images_with_an_mmse_below_24_at_their_visit(oasis, get):
    visits = clinical_visits()
    images = get("/images", dataset="OASIS", per_page=1000).get_json()["items"]
    expected = set()
    for image in images:
        session = SESSION_DAY.search(image["path"])
        mmse = mmse_at_scan(visits, session["subject"], int(session["day"]))
        if mmse is not None and mmse < 24:
            expected.add(image["id"])
    assert expected, "the example data should hold scans with an MMSE below 24"

    body = get("/images", dataset="OASIS", measure="MMSE<24", per_page=1000).get_json()
    assert {item["id"] for item in body["items"]} == expected
    assert body["total"] == len(expected)
    assert all(item["measures"]["MMSE"]["value"] < 24 for item in body["items"])


def test_subjects_with_a_cdr_of_half(oasis, get):
    visits = clinical_visits()
    expected = set(visits.loc[visits["cdr"] == 0.5, "subject"])
    assert expected

    body = get("/subjects", dataset="OASIS", measure="CDR_GLOBAL=0.5", per_page=1000).get_json()
    assert {item["external_id"] for item in body["items"]} == expected


def test_mmse_quartiles_per_dataset(oasis, get):
    visits = clinical_visits()
    images = get("/images", dataset="OASIS", per_page=1000).get_json()["items"]
    scanned = {SESSION_DAY.search(image["path"])["subject"] for image in images}
    values = visits.loc[visits["subject"].isin(scanned), "mmse"].dropna()

    body = get("/stats", dataset="OASIS", distribution="MMSE").get_json()
    assert body["distribution"]["measure"] == "MMSE"
    [oasis_row] = body["distribution"]["datasets"]
    assert oasis_row["dataset"] == "OASIS"
    assert oasis_row["count"] == len(values)
    assert [oasis_row[key] for key in ("min", "q1", "median", "q3", "max")] == pytest.approx(
        [values.min(), values.quantile(0.25), values.median(), values.quantile(0.75),
         values.max()])
