"""The image search read model over the real BIDS datasets: the stored copies, and the /images
totals and /stats counts read through them, agree with the joins they replaced."""
import pandas as pd
from sqlalchemy import Float, cast, func, select

from app.models import Dataset, Image, Scanner, Subject, Visit
from load_db.bids.load import load_bids
from load_db.engine.orchestration import load_frames

BIDS_DATASETS = ("ds001", "ds114", "synthetic", "7t_trt", "eyetracking_fmri")
SCAN_DAY = func.coalesce(Image.days_since_baseline, Visit.days_since_baseline)


def joined(*columns):
    """`columns` of every image, joined to its subject, dataset, visit and scanner as before."""
    return (select(*columns).select_from(Image)
            .join(Subject, Subject.id == Image.subject_id)
            .join(Dataset, Dataset.id == Image.dataset_id)
            .outerjoin(Visit, Visit.id == Image.visit_id)
            .outerjoin(Scanner, Scanner.id == Image.scanner_id))


def test_real_bids_datasets_read_the_same_through_the_search_columns(
        session, client, auth_headers, shared_data):
    for name in BIDS_DATASETS:
        load_bids(session, shared_data / "bids" / name, name, register=True)
    session.commit()

    by_join = session.execute(joined(
        Image.id, func.coalesce(Visit.condition_id, Subject.condition_id), Subject.sex,
        Subject.age_at_baseline + cast(SCAN_DAY, Float) / 365.25, Scanner.field_strength,
        func.lower(Scanner.manufacturer)).order_by(Image.id)).all()
    stored = session.execute(select(
        Image.id, Image.search_condition_id, Image.search_sex, Image.search_age_at_scan,
        Image.search_field_strength, Image.search_manufacturer).order_by(Image.id)).all()
    assert stored == by_join
    assert len(stored) > 100 and {row[2] for row in stored} >= {"female", "male"}

    totals = []
    for name in BIDS_DATASETS:
        for sex in ("female", "male", "unknown"):
            age = Subject.age_at_baseline + cast(SCAN_DAY, Float) / 365.25
            expected = session.scalar(joined(func.count()).where(
                Dataset.designation == name, Subject.sex == sex, age >= 20, age <= 30))
            query = f"dataset={name}&sex={sex}&age_min=20&age_max=30"
            page = client.get(f"/api/v1/images?{query}&per_page=1", headers=auth_headers)
            stats = client.get(f"/api/v1/stats?{query}", headers=auth_headers)
            assert page.status_code == stats.status_code == 200
            assert page.get_json()["total"] == stats.get_json()["images"] == expected
            totals.append(expected)
    assert sum(totals) > 0


def study_frames(*, sex="female", diagnosis="CN", day=400):
    """One subject with two visits (the second's diagnosis and day given) and one T1 at it."""
    subjects = pd.DataFrame({"external_id": ["s1"], "sex": [sex], "age_at_baseline": [60.0],
                             "condition": ["CN"]})
    visits = pd.DataFrame({"subject": ["s1", "s1"], "external_id": ["base", "follow"],
                           "days_since_baseline": [0, day], "condition": ["CN", diagnosis]})
    images = pd.DataFrame({"subject": ["s1"], "path": ["STUDY/s1/follow/t1.nii.gz"],
                           "visit": ["follow"], "type": ["T1"], "manufacturer": ["Siemens"],
                           "field_strength": [3.0]})
    return {"subjects": subjects, "visits": visits, "images": images}


def image_views(client, headers, query):
    """What each image route says of the one image matching `query` (None: not matched)."""
    page = client.get(f"/api/v1/images?{query}", headers=headers).get_json()
    stats = client.get(f"/api/v1/stats?{query}", headers=headers).get_json()
    csv_text = client.get(f"/api/v1/images?{query}&format=csv", headers=headers).text
    assert page["total"] == stats["images"] == len(page["items"]) == len(csv_text.splitlines()) - 1
    if not page["items"]:
        return None
    item = page["items"][0]
    detail = client.get(f"/api/v1/images/{item['id']}", headers=headers).get_json()
    fields = ("sex", "condition", "age_at_scan")
    assert {name: detail[name] for name in fields} == {name: item[name] for name in fields}
    group, = stats["groups"]
    sex, = stats["sex"]
    age, = stats["age"]
    return (item["sex"], item["condition"], round(item["age_at_scan"], 4), sex["sex"],
            group["condition"], age["age_min"])


def test_a_reload_that_changes_sex_diagnosis_and_day_shows_in_every_image_route(
        seeded, client, auth_headers):
    dx = {"CN": "Healthy Control", "AD": "Alzheimer's Disease"}
    load_frames(seeded, "STUDY", register=True, map_condition=dx.__getitem__, **study_frames())
    seeded.commit()
    before = "dataset=STUDY&sex=female&condition=Healthy Control&age_min=60&age_max=62"
    assert image_views(client, auth_headers, before) == (
        "female", "Healthy Control", 61.0951, "female", "Healthy Control", 60)

    report = load_frames(seeded, "STUDY", map_condition=dx.__getitem__,
                         **study_frames(sex="male", diagnosis="AD", day=3653))
    seeded.commit()
    assert report.counts("image").updated == 1
    assert image_views(client, auth_headers, before) is None
    after = "dataset=STUDY&sex=male&condition=Alzheimer's Disease&age_min=69&age_max=71"
    assert image_views(client, auth_headers, after) == (
        "male", "Alzheimer's Disease", 70.0014, "male", "Alzheimer's Disease", 70)
