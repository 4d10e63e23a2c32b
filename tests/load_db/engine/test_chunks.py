"""Streamed loads (load_db/engine/chunks.py, load_chunks): chunks of whole subjects give the
same tables and reports as one whole input, keys repeated across chunks are named errors, and
a load that fails or is killed in a late chunk leaves the database as it was."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DatasetCondition, Image, LoadRun, Scanner, Subject, Visit
from app.models.load_run import INTERRUPTED, shown_status
from globals import ROOT
from load_db.engine import Chunk, LoadError, load_chunks, load_frames, run_load, subject_chunks
from tests.support.apps import table_counts
from tests.support.factories import make_condition, make_dataset

DX = {"CN": "Healthy Control", "AD": "Alzheimer's Disease"}
SUBJECTS = 30


def seed(session):
    make_dataset(session, designation="DEMO")
    for designation in DX.values():
        make_condition(session, designation=designation)
    session.commit()


def study(subjects=SUBJECTS, sources=True):
    """Subjects s00.., two visits each (days 0 and 300), three images each: one per visit
    and one before the first visit (no visit to link). Scanner B is 1.5 T for the first
    subject's images and 3 T for a late one's: the scanner keeps the highest."""
    names = [f"s{i:02d}" for i in range(subjects)]
    subject_frame = pd.DataFrame({
        "external_id": names, "sex": ["female", "male"] * (subjects // 2),
        "age_at_baseline": [50.0 + i for i in range(subjects)],
        "condition": ["CN", "AD", "CN"] * (subjects // 3),
        "metadata": [{"site": i % 4} for i in range(subjects)]})
    visit_frame = pd.DataFrame({
        "subject": [n for n in names for _ in range(2)],
        "external_id": ["v0", "v1"] * subjects, "days_since_baseline": [0, 300] * subjects,
        "condition": ["CN", "AD"] * subjects})
    images = []
    for i, name in enumerate(names):
        for day, visit in ((0, "v0"), (310, None), (-5, None)):
            strength = 1.5 if i == 0 else 3.0 if i == subjects - 2 else None
            images.append({"subject": name, "path": f"DEMO/{name}/{day}.nii.gz", "visit": visit,
                           "days_since_baseline": day, "type": "T1", "file_size": 10 + i,
                           "manufacturer": "Siemens", "serial": "A" if i % 2 else "B",
                           "field_strength": strength if i % 2 == 0 else 3.0,
                           "metadata": {"EchoTime": i / 1000}})
    image_frame = pd.DataFrame(images)
    if sources:
        for name, frame in (("subjects", subject_frame), ("visits", visit_frame),
                            ("images", image_frame)):
            frame["source_file"] = f"{name}.csv"
            frame["source_row"] = range(2, len(frame) + 2)
    return {"subjects": subject_frame, "visits": visit_frame, "images": image_frame}


def contents(session):
    """Every row the load writes, ids replaced by natural keys (ids differ between loads)."""
    subjects = dict(session.execute(select(Subject.id, Subject.external_id)).all())
    visits = {visit_id: (subjects[subject_id], name) for visit_id, subject_id, name in
              session.execute(select(Visit.id, Visit.subject_id, Visit.external_id))}
    scanners = {row[0]: row[1:] for row in session.execute(
        select(Scanner.id, Scanner.manufacturer, Scanner.model, Scanner.serial))}
    natural = {"subject_id": subjects, "visit_id": visits, "scanner_id": scanners}
    found = {}
    for model in (Subject, Visit, Scanner, Image, DatasetCondition):
        columns = [c for c in model.__table__.c if c.name not in ("id", "created_at",
                                                                  "updated_at")]
        found[model.__tablename__] = sorted(
            (tuple(natural[c.name].get(value) if c.name in natural else value
                   for c, value in zip(columns, row, strict=True))
             for row in session.execute(select(*columns))), key=repr)
    return found


def test_subject_chunks_hold_whole_subjects_in_input_order():
    frames = study(sources=False)
    whole = Chunk(**frames)
    assert list(subject_chunks(whole, 1_000)) == [whole]  # a small input: one chunk, as given
    chunks = list(subject_chunks(whole, 40))
    # 6 rows a subject: subject i goes to chunk (6 i) // 40, the rows before it over 40.
    assert [len(chunk.subjects) for chunk in chunks] == [7, 7, 6, 7, 3]
    assert [chunk.rows() for chunk in chunks] == [42, 42, 36, 42, 18]
    for name, frame in frames.items():
        joined = pd.concat([getattr(chunk, name) for chunk in chunks], ignore_index=True)
        # Every row once, in input order, each naming the row it was in the whole input.
        pd.testing.assert_frame_equal(joined.drop(columns=["source_file", "source_row"]), frame)
        assert joined["source_file"].unique().tolist() == [f"{name} table"]
        assert joined["source_row"].tolist() == list(range(1, len(frame) + 1))
    for chunk in chunks:
        names = set(chunk.subjects["external_id"])
        assert set(chunk.visits["subject"]) == names == set(chunk.images["subject"])


def test_chunked_and_whole_loads_write_the_same_rows_and_reports(plain_session):
    seed(plain_session)
    whole = load_frames(plain_session, "DEMO", map_condition=DX.__getitem__, **study())
    expected = contents(plain_session)
    plain_session.rollback()
    chunked = load_frames(plain_session, "DEMO", map_condition=DX.__getitem__, chunk_rows=40,
                          **study())
    assert contents(plain_session) == expected
    assert chunked.to_dict()["tables"] == whole.to_dict()["tables"] == {
        "dataset_condition": {"inserted": 2, "updated": 0, "unchanged": 0},
        "subject": {"inserted": SUBJECTS, "updated": 0, "unchanged": 0},
        "visit": {"inserted": 2 * SUBJECTS, "updated": 0, "unchanged": 0},
        "scanner": {"inserted": 2, "updated": 0, "unchanged": 0},
        "image": {"inserted": 3 * SUBJECTS, "updated": 0, "unchanged": 0}}
    assert chunked.notes == whole.notes == {
        "image has no visit on or before its acquisition day: stored without a visit": SUBJECTS}
    assert sorted(row[3:] for row in expected["scanner"]) == [("A", 3.0), ("B", 3.0)]
    # Every image of day 310 is linked to its subject's second visit, that of day -5 to none.
    linked = dict(plain_session.execute(select(Image.path, Visit.external_id)
                                        .join(Visit, Image.visit_id == Visit.id)).all())
    assert linked == {**{f"DEMO/s{i:02d}/0.nii.gz": "v0" for i in range(SUBJECTS)},
                      **{f"DEMO/s{i:02d}/310.nii.gz": "v1" for i in range(SUBJECTS)}}
    again = load_frames(plain_session, "DEMO", map_condition=DX.__getitem__, chunk_rows=40,
                        **study())
    assert {name: counts.written for name, counts in again.tables.items()} == dict.fromkeys(
        ("dataset_condition", "subject", "visit", "scanner", "image"), 0)
    assert again.counts("image").unchanged == 3 * SUBJECTS


def test_a_key_repeated_in_a_later_chunk_is_named(plain_session):
    seed(plain_session)
    frames = study()
    # An image path given to two subjects whose rows land in different chunks.
    frames["images"].loc[80, "path"] = frames["images"].loc[1, "path"]
    with pytest.raises(LoadError, match=r"^images.csv, row 82, column 'path': duplicate image "
                                        r"'DEMO/s00/310.nii.gz' \(in an earlier part"):
        load_frames(plain_session, "DEMO", map_condition=DX.__getitem__, chunk_rows=40,
                    **frames)
    plain_session.rollback()
    # A streamed source that gives a subject again in a later chunk.
    first, second = (Chunk(subjects=pd.DataFrame({"external_id": names}))
                     for names in (["a", "b"], ["c", "b"]))
    with pytest.raises(LoadError, match=r"^subjects table, row 2, column 'external_id': "
                                        r"duplicate subject 'b'"):
        load_chunks(plain_session, "DEMO", iter([first, second]))
    plain_session.rollback()


def test_a_failure_in_a_late_chunk_leaves_the_database_unchanged(plain_session, tmp_path):
    seed(plain_session)
    before = table_counts(plain_session)
    frames = study(sources=False)
    frames["images"].loc[85, "type"] = "T9"  # the last chunk's

    def load(session, _source):
        return load_frames(session, "DEMO", map_condition=DX.__getitem__, chunk_rows=40,
                           **frames)

    with pytest.raises(LoadError, match=r"^images table, row 86, column 'type': 'T9'"):
        run_load(plain_session, "demo", load, tmp_path, dataset="DEMO")
    assert table_counts(plain_session) == {**before, "load_run": before["load_run"] + 1}


# A load of 10,000,000 images (1,000,000 subjects, 10 images each), generated lazily in chunks
# of 20 subjects, that logs each chunk it has written.
KILLED_LOAD = """
import logging, sys
import pandas as pd
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from load_db.engine import Chunk, load_chunks, run_load

handler = logging.StreamHandler(sys.stderr)
logger = logging.getLogger("load_db.engine.orchestration")
logger.addHandler(handler)
logger.setLevel(logging.DEBUG)


def chunks(subjects=1_000_000, size=20):
    for first in range(0, subjects, size):
        names = [f"S{i:07d}" for i in range(first, first + size)]
        yield Chunk(subjects=pd.DataFrame({"external_id": names, "sex": "female"}),
                    visits=pd.DataFrame({"subject": names, "external_id": "v0",
                                         "days_since_baseline": 0}),
                    images=pd.DataFrame({"subject": [n for n in names for _ in range(10)],
                                         "path": [f"DEMO/{n}/{k}.nii.gz" for n in names
                                                  for k in range(10)],
                                         "type": "T1", "days_since_baseline": 1}))


with Session(create_engine(sys.argv[1])) as session:
    run_load(session, "streamed", lambda s, _source: load_chunks(s, "DEMO", chunks()), None,
             dataset="DEMO")
"""


def everything(session):
    """Every row of every table, in a comparable form."""
    return {table.name: sorted(map(repr, session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


def test_a_load_killed_half_way_leaves_the_database_as_it_was(plain_session, database_url):
    seed(plain_session)
    before = everything(plain_session)
    plain_session.commit()
    child = subprocess.Popen([sys.executable, "-c", KILLED_LOAD, database_url], cwd=ROOT,
                             stderr=subprocess.PIPE, text=True)
    written, deadline = 0, time.monotonic() + 60
    try:
        for line in child.stderr:
            written += "chunk" in line and "written" in line
            if written == 3 or time.monotonic() > deadline:
                break
        assert written == 3, "the child never logged three chunks"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    after = everything(plain_session)
    assert (before.pop("load_run"), len(after.pop("load_run"))) == ([], 1)
    assert after == before
    run = plain_session.scalars(select(LoadRun)).one()
    assert (run.loader, run.pid, shown_status(run.status, run.pid, run.host)) == (
        "streamed", child.pid, INTERRUPTED)
