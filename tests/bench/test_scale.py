"""The scale section: its database multiplied in SQL holds what a load of the copies would,
and the section reports the three target requests at both sizes."""
import pandas as pd
from sqlalchemy import create_engine, text

from app.models import Image
from bench.api import analyze
from bench.scale import build_database
from bench.synthetic import ukbiobank_frames

SUBJECTS = 40
COPIES = 3


def _expected(subjects: int) -> dict[str, int]:
    """Counts of the synthetic input (pandas): its images, and those of the API section's
    filtered page (T1, female, healthy at the image's visit, aged 55 to 70 at the scan)."""
    subject_frame, visit_frame, image_frame = ukbiobank_frames(subjects)
    images = image_frame.merge(subject_frame, left_on="subject", right_on="external_id")
    visits = visit_frame.rename(columns={"days_since_baseline": "visit_day"})
    # Every image belongs to its subject's latest visit on or before its day.
    images = pd.merge_asof(images.sort_values("days_since_baseline"),
                           visits.sort_values("visit_day"), left_on="days_since_baseline",
                           right_on="visit_day", by="subject")
    age = images["age_at_baseline"] + images["days_since_baseline"] / 365.25
    page = images[(images["type"] == "T1") & (images["sex"] == "female")
                  & (images["condition"] == "healthy") & age.between(55, 70)]
    return {"images": len(image_frame), "visits": len(visit_frame), "page": len(page)}


PAGE_COUNT = """SELECT count(*) FROM image i WHERE i.deleted_at IS NULL
AND i.type = 'T1' AND i.search_sex = 'female' AND i.search_age_at_scan BETWEEN 55 AND 70
AND i.search_condition_id = (SELECT id FROM condition WHERE designation = 'Healthy Control')"""


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = {table: connection.scalar(text(f"SELECT count(*) FROM {table}"))
                 for table in ("subject", "visit", "image", "assessment", "image_measure")}
        found["page"] = connection.scalar(text(PAGE_COUNT))
        found["paths"] = connection.scalar(text("SELECT count(DISTINCT path) FROM image"))
        # Each copy's image keeps its source's subject and visit, through the new ids.
        found["misplaced"] = connection.scalar(text(
            "SELECT count(*) FROM image i JOIN subject s ON s.id = i.subject_id "
            "JOIN visit v ON v.id = i.visit_id WHERE v.subject_id <> s.id "
            "OR split_part(i.path, '/', 3) <> split_part(s.external_id, '.', 1)"
            "   AND i.path LIKE 'copy%'"))
    engine.dispose()
    return found


def test_multiplied_database_is_what_loading_the_copies_would_give(postgres):
    from app import create_app
    from app.extensions import db
    from app.models.image_measure import image_measure_rows, refresh_image_measures
    from app.models.search import refresh_image_search

    url = postgres.create_database()
    expected = _expected(SUBJECTS)
    before = {}
    built = build_database(url, SUBJECTS, COPIES, between=lambda u: before.update(_counts(u)))
    after = _counts(url)
    assert before["image"] == expected["images"] and before["page"] == expected["page"]
    assert built["images"] == after["image"] == COPIES * expected["images"]
    assert after["subject"] == COPIES * SUBJECTS
    assert after["visit"] == COPIES * expected["visits"]
    assert after["page"] == COPIES * expected["page"]
    assert after["paths"] == after["image"] and after["misplaced"] == 0
    # The copies have no assessments: the measure read model is the source's alone.
    assert (after["assessment"], after["image_measure"]) == (before["assessment"],
                                                             before["image_measure"])
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        stored = db.session.execute(text("SELECT * FROM image_measure ORDER BY 1, 2")).all()
        computed = db.session.execute(image_measure_rows()).all()
        assert len(computed) == len(stored)
        # Recomputing both read models changes nothing: the copies' search columns are right.
        assert refresh_image_search(db.session) == 0
        refresh_image_measures(db.session, None)
        assert db.session.execute(text("SELECT * FROM image_measure ORDER BY 1, 2")).all() \
            == stored
        db.session.rollback()
        db.engine.dispose()
    # The next insert gets a fresh id: the sequences were moved past the copies.
    analyze(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT nextval(pg_get_serial_sequence('image', 'id'))")) \
            > connection.scalar(text("SELECT max(id) FROM image"))
        # The indexes and the unique constraint dropped for the copy are back.
        indexes = connection.scalars(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'image'")).all()
        assert {"ix_image_search", "uq_image_dataset_id_path", "pk_image"} <= set(indexes)
        assert len(indexes) == len(Image.__table__.indexes) + 2  # + the key, the constraint
    engine.dispose()


def test_scale_section_reports_both_sizes_side_by_side(postgres, tmp_path):
    from bench.__main__ import Context, Sizes
    from bench.api import Plan
    from bench.scale import COPIES as SECTION_COPIES
    from bench.scale import scale_section

    plan = Plan(requests=3, budget=0.5, minimum=2, deep_page=3, csv_runs=1, load_seconds=1,
                load_runs=1, per_page=2)
    sizes = Sizes(ingest_subjects=SUBJECTS, legacy_subjects=1, bids_subjects=(1,),
                  added_subjects=1, api=plan)
    text_ = scale_section(Context(sizes, True, {"postgresql": postgres}, tmp_path))
    expected = _expected(SUBJECTS)
    images = SECTION_COPIES * expected["images"]
    assert text_.startswith(f"## Scale: the API at {images:,} images on PostgreSQL")
    assert f"{expected['page']:,} and {SECTION_COPIES * expected['page']:,} images match" in text_
    for label in ("filtered page + total", "/stats, same filters", "cursor page, no total"):
        assert sum(line.startswith(f"| {label} |") for line in text_.splitlines()) == 1
        assert f"{label}, {images:,} images:" in text_
    assert "Index Only Scan using" in text_


GROUPING_SETS_PLAN = """\
Hash Join  (cost=1.0..2.0 rows=10 width=9) (actual time=40.1..52.5 rows=6 loops=1)
  ->  MixedAggregate  (cost=1.0..2.0 rows=10 width=9) (actual time=30.0..50.25 rows=6 loops=1)
        Hash Key: image.search_sex
        ->  Sort  (cost=1.0..2.0 rows=10 width=9) (actual time=20.0..25.5 rows=319 loops=1)
              ->  Index Only Scan using ix_image_search on image  (cost=1.0..2.0 rows=10 \
width=9) (actual time=0.1..12.75 rows=319 loops=1)
Execution Time: 53.0 ms"""


def test_plans_show_the_aggregates_of_grouping_sets():
    from bench.api import plan_summary

    assert plan_summary("SELECT anon_1.grouping\nFROM x", GROUPING_SETS_PLAN.splitlines()) == {
        "statement": "SELECT anon_1.grouping", "execution_ms": 53.0, "nodes": [
            "Hash Join (52.5 ms, 6 rows)", "  MixedAggregate (50.25 ms, 6 rows)",
            "    Sort (25.5 ms, 319 rows)",
            "      Index Only Scan using ix_image_search on image (12.75 ms, 319 rows)"]}
