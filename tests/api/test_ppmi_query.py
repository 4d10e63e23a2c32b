"""Issue 24's cross-study query on PPMI: Parkinson's disease images with an MDS-UPDRS III above a
threshold equal what pandas computes from data/PPMI's files.

The expected answer is worked out here from the example's tables with the rules of the PPMI
package's docstring (visits, days, the exam that counts) and of docs/api.md ("Querying by
measures": the value at the image's visit, else the latest within the window before the scan),
not through the loader or the query layer.
"""
import pandas as pd

from globals import DATA_DIR
from tests.support.examples import flask_load

FOLDER = DATA_DIR / "PPMI"
THRESHOLD = 20
WINDOW_DAYS = 365
DAYS_PER_MONTH = 365.25 / 12
VISIT_NAMES = {"Baseline": "BL", "Month 6": "R01", "Month 12": "V04", "Month 24": "V06"}
STATE_ORDER = {"OFF": 0, "": 1, "ON": 2}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(FOLDER / name, dtype=str, keep_default_na=False)


def month_number(text: str) -> int:
    """MM/YYYY as a count of months."""
    month, year = text.split("/")
    return int(year) * 12 + int(month) - 1


def clinical_visits() -> pd.DataFrame:
    """One row per participant and visit (SC is part of BL): its day since the baseline month
    and the MDS-UPDRS III total of the exam that counts (NaN when blank or none)."""
    rows = []
    for name in ("MDS-UPDRS_Part_III.csv", "Montreal_Cognitive_Assessment__MoCA_.csv"):
        table = read(name)
        rows.append(pd.DataFrame({
            "PATNO": table["PATNO"], "visit": table["EVENT_ID"].replace({"SC": "BL"}),
            "screening": table["EVENT_ID"] == "SC",
            "month": table["INFODT"].map(month_number),
            "order": table["PDSTATE"].map(STATE_ORDER) if "PDSTATE" in table else 0,
            "NP3TOT": pd.to_numeric(table.get("NP3TOT", pd.Series(index=table.index,
                                                                  dtype=float)))}))
    exams = pd.concat(rows, ignore_index=True)
    visits = exams.sort_values(["PATNO", "visit", "screening", "month"]).drop_duplicates(
        ["PATNO", "visit"])[["PATNO", "visit", "month"]]
    baseline = visits[visits["visit"] == "BL"].set_index("PATNO")["month"]
    visits["day"] = [round((month - baseline[patno]) * DAYS_PER_MONTH)
                     for patno, month in zip(visits["PATNO"], visits["month"], strict=True)]
    counted = (exams.dropna(subset=["order"])
               .sort_values(["PATNO", "visit", "screening", "order"])
               .drop_duplicates(["PATNO", "visit"])[["PATNO", "visit", "NP3TOT"]])
    visits = visits.merge(counted, on=["PATNO", "visit"], how="left")
    return visits.assign(baseline=visits["PATNO"].map(baseline))


def scans() -> pd.DataFrame:
    """The images stored: listed, downloaded, of an MBID type (FLAIR apart), with the cohort of
    their participant, their day since the baseline month and their visit."""
    listing = read("PPMI_imaging_list.csv")
    downloaded = pd.Series(
        [bool(list((FOLDER / "images" / subject).glob(f"*/*/{image}/*.nii.gz")))
         for subject, image in zip(listing["Subject ID"], listing["Image Data ID"], strict=True)],
        index=listing.index)
    listing = listing[downloaded & ~listing["Description"].str.contains("FLAIR")]
    cohorts = read("Participant_Status.csv").set_index("PATNO")["COHORT_DEFINITION"]
    visits = clinical_visits()
    rows = []
    for row in listing.to_dict("records"):
        own = visits[visits["PATNO"] == row["Subject ID"]]
        acquired = pd.Timestamp(row["Acq Date"])
        first = own["baseline"].iloc[0]
        day = (acquired - pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1)).days
        named = own[own["visit"] == VISIT_NAMES[row["Visit"]]]
        visit = named if len(named) else own[own["day"] <= day].nlargest(1, "day")
        rows.append({"image": row["Image Data ID"], "subject": row["Subject ID"],
                     "cohort": cohorts[row["Subject ID"]], "day": day,
                     "visit": visit["visit"].iloc[0], "at_visit": visit["NP3TOT"].iloc[0]})
    return pd.DataFrame(rows)


def updrs_that_counts(scan: dict, visits: pd.DataFrame) -> float | None:
    """The value at the scan's visit, else the latest given within the window before it."""
    if pd.notna(scan["at_visit"]):
        return float(scan["at_visit"])
    earlier = visits[(visits["PATNO"] == scan["subject"]) & visits["NP3TOT"].notna()
                     & visits["day"].between(scan["day"] - WINDOW_DAYS, scan["day"])]
    return None if earlier.empty else float(earlier.nlargest(1, "day")["NP3TOT"].iloc[0])


def test_parkinsons_images_with_an_updrs_iii_above_a_threshold(app, session, get):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    result = flask_load(app, "PPMI")
    assert result.exit_code == 0, result.output
    visits = clinical_visits()
    values = {scan["image"]: (scan["cohort"], updrs_that_counts(scan, visits))
              for scan in scans().to_dict("records")}
    expected = {image: value for image, (cohort, value) in values.items()
                if cohort == "Parkinson's Disease" and value is not None and value > THRESHOLD}
    # The example holds images failing each condition: PD images at or below the threshold or
    # without a value, and images above it of other cohorts.
    parkinsons = {image for image, (cohort, _) in values.items()
                  if cohort == "Parkinson's Disease"}
    above = {image for image, (_, value) in values.items() if value and value > THRESHOLD}
    assert expected and parkinsons - above and above - parkinsons
    assert any(value is None for cohort, value in values.values()
               if cohort == "Parkinson's Disease")

    body = get("/images", dataset="PPMI", condition="Parkinson's Disease",
               measure=f"MDS_UPDRS_III>{THRESHOLD}", per_page=1000).get_json()
    found = {item["path"].split("/")[-2]: item["measures"]["MDS_UPDRS_III"]["value"]
             for item in body["items"]}
    assert found == expected
    assert body["total"] == len(expected)
    # Every PPMI image of the cohort is there without the measure filter.
    body = get("/images", dataset="PPMI", condition="Parkinson's Disease",
               per_page=1000).get_json()
    assert {item["path"].split("/")[-2] for item in body["items"]} == parkinsons
