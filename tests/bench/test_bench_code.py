"""The benchmark code stays runnable, and its baseline loads what the engine loads."""
import pandas as pd
from sqlalchemy import select

from app.models import Image, Subject, Visit
from bench.bids_tree import write_bids_tree
from bench.cases import CASES
from bench.legacy import legacy_load
from bench.synthetic import UKB_CONDITIONS, ukbiobank_frames
from load_db.bids import read_bids
from load_db.engine import load_frames
from tests.factories import make_condition, make_dataset


def test_synthetic_input_is_deterministic_and_ukbiobank_shaped():
    subjects, visits, images = ukbiobank_frames(30)
    again = ukbiobank_frames(30)
    assert (len(subjects), len(visits), len(images)) == (30, 60, 300)
    pd.testing.assert_frame_equal(images, again[2])
    assert set(images["type"]) == {"T1", "DWI", "rsfMRI", "FieldMap"}
    assert set(CASES) >= {"engine_ingest", "legacy_ingest", "engine_reload"}


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


def test_bids_cases_load_the_tree_and_a_reload_writes_only_new_rows(tmp_path):
    counts = write_bids_tree(tmp_path / "tree", 3)
    grown = write_bids_tree(tmp_path / "grown", 4)
    root, grown_root = str(tmp_path / "tree"), str(tmp_path / "grown")

    assert CASES["bids_floor"](root=root)["files"] == counts.files
    assert CASES["bids_read"](root=root)["images"] == counts.images
    loaded = CASES["bids_load"](database_url=f"sqlite:///{tmp_path / 'load.db'}", root=root,
                                dataset="BIDS benchmark")
    assert loaded["rows"] == counts.rows
    reloaded = CASES["bids_reload"](database_url=f"sqlite:///{tmp_path / 'reload.db'}",
                                    root=root, grown_root=grown_root, dataset="BIDS benchmark")
    assert reloaded["written"] == 0
    assert reloaded["grown_written"] == grown.rows - counts.rows == 1 + 2 + 12
