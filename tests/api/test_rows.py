"""The image search read model over the real BIDS datasets: the stored copies, and the /images
totals and /stats counts read through them, agree with the joins they replaced."""
from sqlalchemy import Float, cast, func, select

from app.models import Dataset, Image, Scanner, Subject, Visit
from load_db.bids.load import load_bids

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
