"""A query across studies (issue 24's Done-when): T1 images of participants aged 60 to 80 at the
scan with an MMSE below 24, from ADNI, AIBL and OASIS at once, equals what pandas computes
straight from the three examples' files.

The rules (docs/measures.md, app/query): the age at scan is the age at baseline plus the
scan's day / 365.25; the MMSE that counts is the one at the image's visit, else the latest
within 365 days before the scan. Each study's rows are rebuilt here from its own files (ADNI's
ADNIMERGE and collection CSV, AIBL's tables, OASIS's clinical CSV and BIDS paths), not through
the loaders.
"""
import re

import pandas as pd
import pytest

from globals import DATA_DIR
from tests.support.examples import flask_load

WINDOW_DAYS = 365
DAYS_PER_YEAR = 365.25
AGE_MIN, AGE_MAX, MMSE_BELOW = 60, 80, 24
DATASETS = ("ADNI", "AIBL", "OASIS")
LONI_DATE = "%m/%d/%Y"
OASIS_SESSION = re.compile(r"sub-(?P<subject>OAS3\d{4})/ses-d(?P<day>\d+)/(?P<kind>\w+)/")


def csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def linked(images: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """Give each image without a known visit the subject's latest visit on or before its day."""
    chosen = []
    for image in images.itertuples():
        if image.visit in set(visits["visit"]):
            chosen.append(image.visit)
            continue
        earlier = visits[(visits["subject"] == image.subject) & (visits["day"] <= image.day)]
        chosen.append(None if earlier.empty else earlier.loc[earlier["day"].idxmax(), "visit"])
    return images.assign(visit=chosen)


def mmse_at_scan(image, visits: pd.DataFrame) -> float | None:
    """The MMSE at the image's visit, else the subject's latest within the window before."""
    own = visits.loc[visits["visit"] == image.visit, "mmse"].dropna()
    if not own.empty:
        return float(own.iloc[0])
    recent = visits[(visits["subject"] == image.subject) & visits["mmse"].notna()
                    & (visits["day"] <= image.day) & (visits["day"] >= image.day - WINDOW_DAYS)]
    return None if recent.empty else float(recent.loc[recent["day"].idxmax(), "mmse"])


def loni_study(folder: str, images_table: pd.DataFrame, visits: pd.DataFrame,
               baseline: pd.Series, ages: pd.Series, codes) -> pd.DataFrame:
    """The images of an IDA collection: path (storage key), subject, day, visit, T1 or not,
    age at scan; `codes` turns a Visit cell into the clinical tables' visit code."""
    root = DATA_DIR / folder
    files = {path.parent.name: path.relative_to(root).as_posix()
             for path in root.glob("images/*/*/*/I*/*.nii.gz")}
    # Stored series of the examples: MPRAGE (T1), DTI and rsfMRI; FLAIR and PD/T2 are not.
    stored = images_table["Description"].str.contains("MPRAGE|DTI|rsfMRI")
    table = images_table[images_table["Image Data ID"].isin(files) & stored]
    day = (pd.to_datetime(table["Acq Date"], format=LONI_DATE)
           - table["Subject"].map(baseline)).dt.days
    images = pd.DataFrame({
        "path": folder + "/" + table["Image Data ID"].map(files),
        "subject": table["Subject"], "day": day,
        "visit": table["Subject"] + "_" + table["Visit"].map(codes),
        "t1": table["Description"].str.contains("MPRAGE"),
        "age": table["Subject"].map(ages) + day / DAYS_PER_YEAR})
    return linked(images, visits)


def adni() -> tuple[pd.DataFrame, pd.DataFrame]:
    merge = csv(DATA_DIR / "ADNI" / "ADNIMERGE.csv")
    exam = pd.to_datetime(merge["EXAMDATE"], format="%Y-%m-%d")
    first = merge["VISCODE"] == "bl"
    baseline = pd.Series(exam[first].to_numpy(), index=merge.loc[first, "PTID"])
    visits = pd.DataFrame({"subject": merge["PTID"],
                           "visit": merge["PTID"] + "_" + merge["VISCODE"],
                           "day": (exam - merge["PTID"].map(baseline)).dt.days,
                           "mmse": pd.to_numeric(merge["MMSE"])})
    ages = pd.Series(merge.loc[first, "AGE"].astype(float).to_numpy(),
                     index=merge.loc[first, "PTID"])
    images = loni_study("ADNI", csv(DATA_DIR / "ADNI" / "image_collection.csv"), visits,
                        baseline, ages, lambda code: {"sc": "bl", "scmri": "bl"}.get(code, code))
    return images, visits


def aibl() -> tuple[pd.DataFrame, pd.DataFrame]:
    mmse = csv(DATA_DIR / "AIBL" / "aibl_mmse.csv")
    exam = pd.to_datetime(mmse["EXAMDATE"], format=LONI_DATE)
    first = mmse["VISCODE"] == "bl"
    baseline = pd.Series(exam[first].to_numpy(), index=mmse.loc[first, "RID"])
    visits = pd.DataFrame({"subject": mmse["RID"], "visit": mmse["RID"] + "_" + mmse["VISCODE"],
                           "day": (exam - mmse["RID"].map(baseline)).dt.days,
                           "mmse": pd.to_numeric(mmse["MMSCORE"]).where(
                               lambda score: score >= 0)})   # -4: not available
    born = csv(DATA_DIR / "AIBL" / "aibl_ptdemog.csv").set_index("RID")["PTDOB"]
    ages = baseline.dt.year - born.str.lstrip("/").astype(int).reindex(baseline.index)
    names = {"Baseline": "bl", "18 Month": "m18", "36 Month": "m36", "54 Month": "m54",
             "72 Month": "m72"}
    images = loni_study("AIBL", csv(DATA_DIR / "AIBL" / "image_collection.csv"), visits,
                        baseline, ages.astype(float), names.get)
    return images, visits


def oasis() -> tuple[pd.DataFrame, pd.DataFrame]:
    clinical = csv(DATA_DIR / "OASIS" / "OASIS3_clinical_data.csv")
    visits = pd.DataFrame({
        "subject": clinical["Subject"], "visit": clinical["ADRC_ADRCCLINICALDATA ID"],
        "day": clinical["ADRC_ADRCCLINICALDATA ID"].str.extract(r"_d(\d+)$")[0].astype(int),
        "mmse": pd.to_numeric(clinical["mmse"])})
    ages = clinical.groupby("Subject")["ageAtEntry"].first().astype(float)
    rows = []
    for path in sorted((DATA_DIR / "OASIS" / "bids").glob("sub-*/ses-*/*/*.nii.gz")):
        relative = path.relative_to(DATA_DIR / "OASIS").as_posix()
        found = OASIS_SESSION.search(relative)
        if found["kind"] not in ("anat", "dwi", "func") or path.name.endswith(
                ("_T2w.nii.gz", "_FLAIR.nii.gz")):
            continue   # types OASIS does not store
        day = int(found["day"])
        rows.append({"path": f"OASIS/{relative}", "subject": found["subject"], "day": day,
                     "visit": None, "t1": path.name.endswith("_T1w.nii.gz"),
                     "age": ages.get(found["subject"], float("nan")) + day / DAYS_PER_YEAR})
    return linked(pd.DataFrame(rows), visits), visits


def expected_images() -> pd.DataFrame:
    """Every stored image of the three examples with its three tests (T1, age, MMSE)."""
    frames = []
    for name, study in zip(DATASETS, (adni, aibl, oasis), strict=True):
        images, visits = study()
        mmse = [mmse_at_scan(image, visits) for image in images.itertuples()]
        frames.append(images.assign(
            dataset=name,
            age_ok=images["age"].between(AGE_MIN, AGE_MAX),
            mmse_ok=[value is not None and value < MMSE_BELOW for value in mmse]))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def three_studies(app, session):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    for designation in DATASETS:
        result = flask_load(app, designation)
        assert result.exit_code == 0, result.output


def test_t1_images_aged_60_to_80_with_an_mmse_below_24_across_three_studies(three_studies, get):
    images = expected_images()
    tests = ("t1", "age_ok", "mmse_ok")
    # The examples hold matches in every study, and images failing each test alone.
    matching = images[images[list(tests)].all(axis=1)]
    assert set(matching["dataset"]) == set(DATASETS)
    for test in tests:
        others = [other for other in tests if other != test]
        assert (images[others].all(axis=1) & ~images[test]).any(), test

    every = get("/images", dataset=list(DATASETS), per_page=1000).get_json()
    assert {item["path"] for item in every["items"]} == set(images["path"])

    body = get("/images", dataset=list(DATASETS), type="T1", age_min=AGE_MIN, age_max=AGE_MAX,
               measure=f"MMSE<{MMSE_BELOW}", per_page=1000).get_json()
    found = {item["path"]: item for item in body["items"]}
    assert set(found) == set(matching["path"])
    assert body["total"] == len(matching)
    ids = {item["path"]: item["id"] for item in every["items"]}
    assert {item["id"] for item in body["items"]} == {ids[path] for path in matching["path"]}
    assert {item["dataset"] for item in found.values()} == set(DATASETS)
