"""The benchmark code stays runnable, and its baseline loads what the engine loads."""
import pandas as pd
import pytest
from sqlalchemy import select

from app.models import Assessment, Image, Measure, Subject, Visit
from bench.__main__ import SECTIONS, marked, measured_sections, section_name
from bench.__main__ import main as bench_main
from bench.api import Plan, parse_wrk, percentile, plan_summary, query_path, summary
from bench.assessments import write_assessments
from bench.bids_tree import write_bids_tree
from bench.cases import CASES
from bench.legacy import legacy_load
from bench.synthetic import UKB_CONDITIONS, VISIT_MEASURES, assessment_frame, ukbiobank_frames
from globals import ROOT
from load_db.bids import read_bids
from load_db.engine import load_frames
from tests.support.factories import make_condition, make_dataset


def test_synthetic_input_is_deterministic_and_ukbiobank_shaped():
    subjects, visits, images = ukbiobank_frames(30)
    again = ukbiobank_frames(30)
    assert (len(subjects), len(visits), len(images)) == (30, 60, 300)
    pd.testing.assert_frame_equal(images, again[2])
    assert set(images["type"]) == {"T1", "DWI", "rsfMRI", "FieldMap"}
    assert set(CASES) >= {"engine_ingest", "legacy_ingest", "engine_reload"}


def test_synthetic_assessments_give_every_visit_each_measure_on_its_day():
    _, visits, _ = ukbiobank_frames(30)
    frame = assessment_frame(visits)
    pd.testing.assert_frame_equal(frame, assessment_frame(visits))
    assert len(frame) == 20 * 30 == len(visits) * len(VISIT_MEASURES)
    assert not frame.duplicated(["subject", "measure", "days_since_baseline"]).any()
    mmse = frame[frame["measure"] == "MMSE"]
    assert mmse["value_number"].between(0, 30).all()
    assert 0.1 < (mmse["value_number"] < 24).mean() < 0.35


def test_assessments_are_written_at_their_subjects_visits(session):
    make_dataset(session, designation="UK Biobank")
    for designation in UKB_CONDITIONS.values():
        make_condition(session, designation=designation)
    session.add(Measure(designation="MMSE", kind="ordinal", unit="points"))
    subjects, visits, images = ukbiobank_frames(3)
    load_frames(session, "UK Biobank", subjects=subjects, visits=visits, images=images,
                map_condition=UKB_CONDITIONS.__getitem__)
    frame = assessment_frame(visits)

    assert write_assessments(session, "UK Biobank", frame) == 60
    session.commit()
    stored = session.execute(
        select(Subject.external_id, Visit.external_id, Measure.designation,
               Assessment.days_since_baseline, Assessment.value_number)
        .join(Subject, Subject.id == Assessment.subject_id)
        .join(Visit, Visit.id == Assessment.visit_id)
        .join(Measure, Measure.id == Assessment.measure_id)).all()
    assert sorted(stored) == sorted(frame.itertuples(index=False, name=None))
    # The measures the database lacked were added; the seeded MMSE was used as it is.
    assert session.scalar(select(Measure.unit).where(Measure.designation == "BMI")) == "kg/m2"
    assert session.query(Measure).count() == len(VISIT_MEASURES)


def _stored(session):
    return (sorted(session.execute(select(Subject.external_id, Subject.sex)).all()),
            sorted(session.execute(select(Visit.external_id, Visit.days_since_baseline,
                                          Visit.condition_id)).all()),
            sorted(session.execute(select(Image.path, Image.type, Image.days_since_baseline,
                                          Image.file_size)).all()),
            sorted(session.execute(select(Image.path, Visit.external_id)
                                   .join(Visit, Image.visit_id == Visit.id)).all()))


def test_legacy_baseline_writes_the_same_rows_as_the_engine(session):
    make_dataset(session, designation="UK Biobank")
    for designation in UKB_CONDITIONS.values():
        make_condition(session, designation=designation)
    session.commit()
    subjects, visits, images = ukbiobank_frames(4)

    assert legacy_load(session, "UK Biobank", subjects, visits, images, UKB_CONDITIONS) == 52
    by_legacy = _stored(session)
    for table in (Image, Visit, Subject):
        session.execute(table.__table__.delete())
    session.commit()

    load_frames(session, "UK Biobank", subjects=subjects, visits=visits, images=images,
                map_condition=UKB_CONDITIONS.__getitem__)
    session.commit()
    assert _stored(session) == by_legacy
    assert len(by_legacy[3]) == 40  # every image found its visit


def _files_on_disk(root):
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in root.rglob("*") if path.is_file()}


def test_synthetic_bids_tree_is_deterministic_and_read_bids_finds_what_it_wrote(tmp_path):
    counts = write_bids_tree(tmp_path / "a", 3)
    assert write_bids_tree(tmp_path / "b", 3) == counts
    written = _files_on_disk(tmp_path / "a")
    assert written == _files_on_disk(tmp_path / "b")
    assert counts.files == len(written) == 3 * 25 + 9
    assert counts.sidecars == sum(path.endswith(".json") for path in written)
    # A bigger tree is the same tree with subjects added.
    write_bids_tree(tmp_path / "c", 4)
    grown = _files_on_disk(tmp_path / "c")
    assert {path: data for path, data in grown.items() if path != "participants.tsv"} \
        .items() >= {path: data for path, data in written.items()
                     if path != "participants.tsv"}.items()

    frames = read_bids(tmp_path / "a", storage_prefix="BENCH")
    assert (len(frames.subjects), len(frames.visits), len(frames.images), len(frames.ignored)) \
        == (counts.subjects, counts.sessions, counts.images, counts.ignored)
    assert set(frames.images["type"]) == {"T1", "DWI", "rsfMRI", "FieldMap"}
    assert frames.visits["days_since_baseline"].notna().all()
    assert set(CASES) >= {"bids_floor", "bids_read", "bids_load", "bids_reload", "pybids_layout",
                          "bids2table_index"}


def test_a_tree_grown_in_place_keeps_the_files_it_already_had(tmp_path):
    write_bids_tree(tmp_path / "tree", 3)
    before = {path: path.stat().st_mtime_ns for path in (tmp_path / "tree").rglob("*")
              if path.is_file()}
    write_bids_tree(tmp_path / "tree", 4, grow=True)
    write_bids_tree(tmp_path / "fresh", 4)
    assert _files_on_disk(tmp_path / "tree") == _files_on_disk(tmp_path / "fresh")
    rewritten = {path.name for path, modified in before.items()
                 if path.stat().st_mtime_ns != modified}
    assert rewritten == {"participants.tsv"}


def test_bids_cases_load_the_tree_and_a_reload_writes_only_new_rows(tmp_path):
    counts = write_bids_tree(tmp_path / "tree", 3)
    grown = write_bids_tree(tmp_path / "grown", 4)
    root = str(tmp_path / "tree")

    assert CASES["bids_floor"](root=root)["files"] == counts.files
    read = CASES["bids_read"](root=root)
    assert read["images"] == counts.images and 0 < read["listing_seconds"] < read["seconds"]
    loaded = CASES["bids_load"](database_url=f"sqlite:///{tmp_path / 'load.db'}", root=root,
                                dataset="BIDS benchmark")
    assert loaded["rows"] == counts.rows
    reloaded = CASES["bids_reload"](database_url=f"sqlite:///{tmp_path / 'reload.db'}",
                                    subjects=3, added=1, dataset="BIDS benchmark")
    assert reloaded["written"] == reloaded["full_written"] == 0
    assert reloaded["grown_written"] == grown.rows - counts.rows == 1 + 2 + 12


WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/api/v1/images
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.01ms    2.00ms  20.00ms   90.00%
  2400 requests in 2.00s, 9.50MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:   1199.50
Transfer/sec:      4.75MB
"""


def test_api_figures_are_read_the_same_way_every_time():
    assert percentile([0.4, 0.1, 0.3, 0.2], 0.5) == 0.2
    assert summary([float(n) for n in range(1, 201)]) == {"p50": 100.0, "p95": 190.0,
                                                         "p99": 198.0, "n": 200}
    assert parse_wrk(WRK_OUTPUT) == {"requests": 2400, "per_second": 1199.5, "non_2xx": 3,
                                     "socket_errors": 3}
    assert query_path("/images", {"type": ["T1", "DWI"], "condition": "Healthy Control"}) \
        == "/api/v1/images?type=T1&type=DWI&condition=Healthy+Control"
    assert query_path("/stats", {}) == "/api/v1/stats"


def _expected_matches(subjects: int) -> tuple[int, int]:
    """The images the API section's filtered page and CSV export match, from the frames."""
    subject_frame, visit_frame, image_frame = ukbiobank_frames(subjects)
    images = image_frame.merge(subject_frame, left_on="subject", right_on="external_id")
    csv = images[(images["type"] == "T1") & (images["sex"] == "female")]
    # Every image belongs to the visit whose day it follows (instance 2 on day 0, 3 later).
    visits = visit_frame.rename(columns={"days_since_baseline": "visit_day"})
    csv = pd.merge_asof(csv.sort_values("days_since_baseline"), visits.sort_values("visit_day"),
                        left_on="days_since_baseline", right_on="visit_day", by="subject")
    age = csv["age_at_baseline"] + csv["days_since_baseline"] / 365.25
    page = csv[(csv["condition"] == "healthy") & age.between(55, 70)]
    # With measure=MMSE<24: the MMSE of the image's visit (every visit has one, on its day).
    assessments = assessment_frame(visit_frame)
    mmse = assessments[assessments["measure"] == "MMSE"].rename(
        columns={"visit": "external_id_y", "value_number": "mmse"})  # the visit's id
    scored = page.merge(mmse[["subject", "external_id_y", "mmse"]],
                        on=["subject", "external_id_y"])
    assert len(scored) == len(page)
    return len(page), len(csv), int((scored["mmse"] < 24).sum())


def test_api_section_serves_a_tiny_database_with_gunicorn(postgres, tmp_path, monkeypatch):
    from bench import api
    from bench.__main__ import Context, Sizes, api_section

    # The Python load generator, in its own process, whether or not wrk is installed.
    monkeypatch.setattr(api, "load_tool", lambda: "python")
    plan = Plan(requests=3, budget=0.5, minimum=2, deep_page=3, csv_runs=1, load_seconds=1,
                load_runs=1, load_connections=2, per_page=2)
    sizes = Sizes(ingest_subjects=60, legacy_subjects=1, bids_subjects=(1,), added_subjects=1,
                  api=plan)
    context = Context(sizes, True, {"postgresql": postgres}, tmp_path)
    text = api_section(context)

    matched, exported, with_measure = _expected_matches(60)
    assert (matched, exported, with_measure) == (17, 65, 5)
    assert f"(per_page 2; {matched} images match)" in text
    assert f"below 24; {with_measure} images match)" in text
    assert "| filtered page + total, measure=MMSE<24 | 3 |" in text
    assert "with measure=MMSE<24: p50 at most 50 ms |" in text
    assert "- with measure=MMSE<24: `SELECT" in text
    assert f"`/images?type=T1&sex=female&format=csv`, {exported} rows" in text
    assert "| cursor page, no total | 3 |" in text
    assert "| deep page (page=3) | 3 |" in text
    # The light requests again alone and after a pause, and the cursor page's phases.
    method = text.split("### The latency method", 1)[1].split("###", 1)[0]
    assert [line.split(" | ")[0] for line in method.splitlines() if line.startswith("| ")
            and not line.startswith("| request")] == [
        "| cursor page, no total", "| first page (unfiltered)", "| filtered page + total"]
    phases = text.split("### Where a cursor page's time goes", 1)[1].split("###", 1)[0]
    rows = [line for line in phases.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 10 + 1  # the header, the phases and the WSGI request, gunicorn
    assert rows[-1].startswith("| the whole request through gunicorn")
    assert "| the whole request through the WSGI app in process (no HTTP) |" in phases
    assert rows[-2].endswith("| 100% |")
    assert "the Python load generator of bench/api.py" in text
    throughput = [line for line in text.splitlines() if line.startswith("| cursor page, no total |")
                  and line.count("|") == 5]
    assert len(throughput) == 1 and throughput[0].endswith("| 0 |")  # no errors


def test_startup_bench_times_every_command_on_a_migrated_database(tmp_path):
    from bench.startup import COMMANDS, command_start_times

    medians = command_start_times(f"sqlite:///{tmp_path / 'startup.db'}", runs=1)
    assert list(medians) == list(COMMANDS)
    assert all(seconds > 0 for seconds in medians.values())


def test_startup_phases_time_the_app_as_the_flask_command_builds_it(tmp_path):
    from bench.startup import start_up_phases

    phases = start_up_phases(f"sqlite:///{tmp_path / 'phases.db'}", runs=1)
    assert list(phases)[:4] == ["frameworks", "settings (config: pydantic-settings)",
                                "PostgreSQL dialect (the JSONB type of the models)", "models"]
    assert len(phases) == 6 and all(seconds > 0 for seconds in phases.values())


COST = "(cost=1.00..2.00 rows=1 width=8)"
EXPLAIN_OUTPUT = f"""Aggregate  {COST} (actual time=30.885..30.886 rows=1 loops=1)
  ->  Nested Loop Semi Join  {COST} (actual time=0.1..30.862 rows=143 loops=1)
        ->  Index Scan using ix_image_search on image  {COST} (actual time=0.05..30.643 rows=143 loops=1)
              Filter: (chosen.value_number < 24)
              SubPlan 2
                ->  Limit  {COST} (actual time=0.004..0.005 rows=1 loops=600)
        ->  Seq Scan on dataset  {COST} (actual time=0.001..0.002 rows=1 loops=1)
Planning Time: 1.000 ms
Execution Time: 31.100 ms"""  # noqa: E501 (as PostgreSQL prints it)


def test_plans_are_summed_up_as_their_nodes_and_execution_time():
    assert plan_summary("SELECT count(*) AS count_1 \nFROM image", EXPLAIN_OUTPUT.splitlines()) \
        == {"statement": "SELECT count(*) AS count_1", "execution_ms": 31.1, "nodes": [
            "Aggregate (30.886 ms, 1 rows)",
            "  Nested Loop Semi Join (30.862 ms, 143 rows)",
            "    Index Scan using ix_image_search on image (30.643 ms, 143 rows)",
            "      SubPlan 2",
            "        Limit (0.005 ms, 1 rows)",
            "    Seq Scan on dataset (0.002 ms, 1 rows)"]}


def test_a_report_is_split_into_its_marked_sections_and_the_docs_hold_each_once():
    first, second = marked("ingestion", "## One\n\nrow"), marked("api", "## Two\n")
    sections = measured_sections(f"# Benchmarks\n\nheader\n\n{first}\n\n{second}\n")
    assert list(sections) == ["ingestion", "api"]
    assert sections["ingestion"].startswith("<!-- bench section: ingestion -->\n## One\n\nrow\n\n")
    assert sections["api"].splitlines()[-1].startswith("_Section measured ")
    report = (ROOT / "docs" / "BENCHMARKS.md").read_text()
    assert sorted(measured_sections(report)) == sorted(section_name(s) for s in SECTIONS)


def test_quick_sizes_never_update_the_full_report(capsys):
    with pytest.raises(SystemExit) as stopped:
        bench_main(["--quick", "--update", "--sections", "startup"])
    assert stopped.value.code == 2
    assert "--update --quick would mix quick sizes" in capsys.readouterr().err
