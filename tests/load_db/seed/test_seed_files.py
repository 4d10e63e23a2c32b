"""The bundled master lists of measures and conditions: their shape, read as plain CSV (not
through the loader, so that a loader bug cannot hide a bad file)."""
from __future__ import annotations

import csv
import json
from urllib.parse import urlsplit

import pytest

from globals import ROOT, SEED_DIR

# The designations of the master list (docs/measures.md, "The master list").
CONTRACT_MEASURES = {
    "MMSE": ("ordinal", "points"), "MOCA": ("ordinal", "points"), "CDR_GLOBAL": ("ordinal", ""),
    "CDR_SB": ("ordinal", "points"), "ADAS_COG11": ("number", "points"),
    "ADAS_COG13": ("number", "points"), "FAQ": ("ordinal", "points"), "GDS": ("ordinal", "points"),
    "MDS_UPDRS_III": ("ordinal", "points"), "HOEHN_YAHR": ("ordinal", ""),
    "EDUCATION_YEARS": ("number", "years"), "HANDEDNESS": ("category", ""),
    "HEIGHT": ("number", "cm"), "WEIGHT": ("number", "kg"), "BMI": ("number", "kg/m2"),
    "APOE_E4": ("ordinal", "alleles"), "PSQI": ("ordinal", "points"),
    "UHDRS_TMS": ("ordinal", "points"),
}
RANGES = {"MMSE": (0, 30), "MOCA": (0, 30), "CDR_GLOBAL": (0, 3), "CDR_SB": (0, 18),
          "ADAS_COG11": (0, 70), "ADAS_COG13": (0, 85), "FAQ": (0, 30), "GDS": (0, 15),
          "MDS_UPDRS_III": (0, 132), "HOEHN_YAHR": (0, 5), "EDUCATION_YEARS": (0, 30),
          "HEIGHT": (50, 250), "WEIGHT": (20, 300), "BMI": (10, 80), "APOE_E4": (0, 2),
          "PSQI": (0, 21), "UHDRS_TMS": (0, 124)}
LEVELS = {"CDR_GLOBAL": ["0", "0.5", "1", "2", "3"], "APOE_E4": ["0", "1", "2"],
          "HANDEDNESS": ["right", "left", "ambidextrous"]}
PER_SUBJECT = {"EDUCATION_YEARS", "HANDEDNESS", "APOE_E4"}
VOCABULARIES = {"LOINC", "SNOMED CT", "NCIT"}


def rows(stem: str) -> list[dict[str, str]]:
    with open(SEED_DIR / f"{stem}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


MEASURES = rows("measures_list")
CONDITIONS = rows("conditions_list")


def test_the_measures_are_exactly_those_of_the_contract_with_their_kind_and_unit():
    designations = [row["designation"] for row in MEASURES]
    assert len(designations) == len(set(designations))
    assert {row["designation"]: (row["kind"], row["unit"]) for row in MEASURES} \
        == CONTRACT_MEASURES


@pytest.mark.parametrize("row", MEASURES, ids=lambda row: row["designation"])
def test_each_measure_has_what_its_kind_needs(row):
    kind = row["kind"]
    assert row["description"].strip()
    if kind == "number":
        assert row["unit"]
    if kind in ("number", "ordinal"):
        low, high = float(row["minimum"]), float(row["maximum"])
        assert low <= high
        assert (low, high) == RANGES[row["designation"]]
    if kind == "category":
        assert row["minimum"] == row["maximum"] == ""
        assert json.loads(row["levels"])
    levels = json.loads(row["levels"]) if row["levels"] else None
    assert (list(levels) if levels else None) == LEVELS.get(row["designation"])
    if levels and kind == "ordinal":
        assert all(low <= float(level) <= high for level in levels)
    assert row["per_subject"] == ("yes" if row["designation"] in PER_SUBJECT else "no")


def test_the_conditions_are_the_master_list_in_order():
    # New conditions are appended (Prodromal PD came with PPMI), so stored ids never move.
    assert [row["designation"] for row in CONDITIONS] == [
        "Healthy Control", "Mild Cognitive Impairment", "Alzheimer's Disease",
        "Dementia Unspecified", "Parkinson's Disease", "Huntington's Disease", "Subacute Pain",
        "Chronic Pain", "Breast Cancer", "Benign Breast Lesion", "Interval Breast Cancer",
        "Normal Breast Screening", "Prodromal PD"]


@pytest.mark.parametrize("row", MEASURES + CONDITIONS, ids=lambda row: row["designation"])
def test_a_term_is_complete_with_an_https_url_naming_its_code(row):
    given = [bool(row[column]) for column in ("vocabulary", "term_code", "term_url")]
    assert given in ([True] * 3, [False] * 3)
    if row["term_url"]:
        assert row["vocabulary"] in VOCABULARIES
        url = urlsplit(row["term_url"])
        assert (url.scheme, bool(url.netloc)) == ("https", True)
        assert " " not in row["term_url"]
        assert row["term_code"] in row["term_url"]


def test_every_term_is_cited_in_docs_measures():
    """docs/measures.md lists each term with its code and the page that states it."""
    page = (ROOT / "docs" / "measures.md").read_text()
    sources = page.split("## Sources", 1)[1]
    for row in MEASURES + CONDITIONS:
        if row["term_code"]:
            line = next((line for line in sources.splitlines()
                         if line.startswith(f"| {row['designation']} |")), None)
            assert line is not None, row["designation"]
            assert row["term_code"] in line and "https://" in line
