"""A small, fully known database for the API tests: two datasets, five subjects, eight images.

subject  dataset  sex      age   own  visits: day, condition       images: type, day, visit, scanner
ann      ALPHA    female   70    -    a0: 0, HC; a1: 730, AD        i1 T1 0 a0 siemens3,
                                                                    i2 DWI 0 a0 ge15,
                                                                    i3 T1 730 a1 siemens3,
                                                                    i9 T1 (soft-deleted)
bob      ALPHA    male     55    -    b0: 0, -                      i4 T1 0 b0 ge15
cat      BETA     female   62.5  HC   c0: 0, -; c1: 365, -          i5 rsfMRI 365 c1 philips3,
                                                                    i6 T1 0 c0 philips3
dan      BETA     unknown  -     -    d0: 0, -                      i7 FieldMap, nothing known
eve      BETA     female   80    HC   e0: 100, AD (visit wins)      i8 T1 100 e0 philips3
Dataset GONE is soft-deleted, with subject zed. An image's path is DATASET/subject/name.nii.gz.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from app.models import Condition, Dataset, FileType, Image, ImageType, Scanner, Subject, Visit
from tests.support.apps import table_counts
from tests.support.factories import (
    make_condition,
    make_dataset,
    make_file_type,
    make_image,
    make_scanner,
    make_subject,
    make_visit,
)

DELETED_AT = datetime(2026, 1, 1, tzinfo=UTC)
# The images of the world that are not soft-deleted, in id order.
ALL_IMAGES = ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]

# The NCIt page of the Healthy Control concept, a term the world's HC condition carries.
HEALTHY_CONTROL_URL = "https://evsexplore.semantics.cancer.gov/evsexplore/concept/ncit/C94342"


@dataclass
class World:
    """The rows of the test database, by short name."""

    datasets: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    scanners: dict[str, Any] = field(default_factory=dict)
    subjects: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, Any] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)
    file_types: dict[str, Any] = field(default_factory=dict)

    def names(self, kind: str, ids: list[int]) -> list[str]:
        """Return the short names of rows of `kind` ("images", ...) from their ids, in order."""
        by_id = {row.id: name for name, row in getattr(self, kind).items()}
        return [by_id[id_] for id_ in ids]

    def id(self, kind: str, name: str) -> int:
        """Return the id of the row of `kind` named `name`."""
        return getattr(self, kind)[name].id


# The model of each kind of row of the world, parents first.
KINDS = {"datasets": Dataset, "conditions": Condition, "file_types": FileType,
         "scanners": Scanner, "subjects": Subject, "visits": Visit, "images": Image}
# Filled in at insert time, as for any new row: never copied from a snapshot.
FRESH_COLUMNS = ("created_at", "updated_at")


@dataclass
class _Snapshot:
    """The rows a first world wrote into an empty database: {table: rows}, {kind: {name: id}}."""

    rows: dict[Table, list[dict[str, Any]]]
    ids: dict[str, dict[str, int]]


# The first world written on each database (by URL). Each later world on that database, when
# its tables are empty again, is a copy of those rows (a few INSERTs) rather than a rebuild row
# by row: every ORM flush refreshes the images' search columns, which makes that slow.
_SNAPSHOTS: dict[str, _Snapshot] = {}


def build_world(session: Session) -> World:
    """Write the world table above and commit it; return its rows, expired like any committed
    row (read afresh when first used)."""
    database = session.get_bind().url.render_as_string(hide_password=False)
    before = table_counts(session)
    empty = not any(before[model.__tablename__] for model in KINDS.values())
    if empty and database in _SNAPSHOTS:
        return _copy_world(session, _SNAPSHOTS[database])
    world = _write_world(session)
    if empty:
        snapshot = _snapshot(session, world, before)
        if snapshot is not None:
            _SNAPSHOTS[database] = snapshot
    return world


def _snapshot(session: Session, world: World, before: dict[str, int]) -> _Snapshot | None:
    """The rows `world` wrote; None if it wrote any outside the world's own tables (then every
    world on that database is built row by row)."""
    after = table_counts(session)
    own = {model.__tablename__ for model in KINDS.values()}
    if any(after[table] != before[table] for table in after if table not in own):
        return None
    ids = {kind: {name: row.id for name, row in getattr(world, kind).items()} for kind in KINDS}
    rows = {}
    for kind, model in KINDS.items():
        table = model.__table__
        columns = [column for column in table.columns if column.name not in FRESH_COLUMNS]
        found = session.execute(select(*columns).where(table.c.id.in_(ids[kind].values())))
        rows[table] = [dict(row) for row in found.mappings()]
        if len(rows[table]) != after[table.name]:
            return None
    return _Snapshot(rows, ids)


def _copy_world(session: Session, snapshot: _Snapshot) -> World:
    """Insert the snapshot's rows (same ids and values, new timestamps) and commit."""
    for table, rows in snapshot.rows.items():
        session.execute(insert(table), rows)
    if session.get_bind().dialect.name == "postgresql":
        # Rows given their ids leave the id sequences alone, and a sequence restarts when its
        # table is created again: move each past the copied ids (never back).
        session.execute(select(*(func.setval(sequence, func.greatest(
            select(func.max(table.c.id)).scalar_subquery(), func.nextval(sequence)))
            for table in snapshot.rows
            for sequence in [func.pg_get_serial_sequence(table.name, "id")])))
    world = World()
    for kind, model in KINDS.items():
        by_id = {row.id: row for row in session.scalars(
            select(model).where(model.id.in_(snapshot.ids[kind].values())))}
        setattr(world, kind, {name: by_id[id_] for name, id_ in snapshot.ids[kind].items()})
    session.commit()
    return world


def _write_world(session: Session) -> World:
    """Write the world table above row by row and commit it."""
    w = World()
    # Each dataset keeps its files under its designation: image paths start with it.
    w.datasets = {"ALPHA": make_dataset(session, designation="ALPHA", description="first",
                                        storage_prefix="ALPHA"),
                  "BETA": make_dataset(session, designation="BETA", description="second",
                                       storage_prefix="BETA"),
                  "GONE": make_dataset(session, designation="GONE", deleted_at=DELETED_AT,
                                       storage_prefix="GONE")}
    alpha, beta = w.datasets["ALPHA"], w.datasets["BETA"]
    w.conditions = {"AD": make_condition(session, designation="AD", description="Alzheimer's"),
                    "HC": make_condition(session, designation="HC", description="healthy",
                                          vocabulary="NCIT", term_code="C94342",
                                          term_url=HEALTHY_CONTROL_URL)}
    ad, hc = w.conditions["AD"], w.conditions["HC"]
    w.file_types = {"mask": make_file_type(session, designation="brain_mask"),
                    "mni": make_file_type(session, designation="T1_mni", description="to MNI")}
    w.scanners = {
        "siemens3": make_scanner(session, dataset=alpha, manufacturer="Siemens", model="Prisma",
                                 serial="S1", field_strength=3.0),
        "ge15": make_scanner(session, dataset=alpha, manufacturer="GE", model="Signa",
                             serial="G1", field_strength=1.5),
        "philips3": make_scanner(session, dataset=beta, manufacturer="Philips", model="Achieva",
                                 serial="P1", field_strength=3.0),
    }
    s = w.scanners
    w.subjects = {
        "ann": make_subject(session, dataset=alpha, external_id="ann", sex="female",
                            age_at_baseline=70.0, handedness="right", race="white_non_latino",
                            education_years=16.0),
        "bob": make_subject(session, dataset=alpha, external_id="bob", sex="male",
                            age_at_baseline=55.0),
        "cat": make_subject(session, dataset=beta, external_id="cat", sex="female",
                            age_at_baseline=62.5, condition=hc),
        "dan": make_subject(session, dataset=beta, external_id="dan", sex="unknown"),
        "eve": make_subject(session, dataset=beta, external_id="eve", sex="female",
                            age_at_baseline=80.0, condition=hc),
        "zed": make_subject(session, dataset=w.datasets["GONE"], external_id="zed", sex="male",
                            age_at_baseline=60.0),
    }
    sub = w.subjects
    w.visits = {
        "a0": make_visit(session, subject=sub["ann"], external_id="a0", days_since_baseline=0,
                         condition=hc, bmi=22.5, symptoms={"mmse": 29}),
        "a1": make_visit(session, subject=sub["ann"], external_id="a1", days_since_baseline=730,
                         condition=ad),
        "b0": make_visit(session, subject=sub["bob"], external_id="b0", days_since_baseline=0),
        "c0": make_visit(session, subject=sub["cat"], external_id="c0", days_since_baseline=0),
        "c1": make_visit(session, subject=sub["cat"], external_id="c1", days_since_baseline=365),
        "d0": make_visit(session, subject=sub["dan"], external_id="d0", days_since_baseline=0),
        "e0": make_visit(session, subject=sub["eve"], external_id="e0", days_since_baseline=100,
                         condition=ad),
    }
    v = w.visits

    def image(name, subject, image_type, day, visit, scanner, **extra):
        w.images[name] = make_image(
            session, subject=sub[subject], type=image_type, days_since_baseline=day,
            visit=v[visit] if visit else None, scanner=s[scanner] if scanner else None,
            path=f"{sub[subject].dataset.designation}/{subject}/{name}.nii.gz",
            file_size=1000 + int(name[1:]), **extra)

    image("i1", "ann", ImageType.T1, 0, "a0", "siemens3", checksum="c1",
          metadata_json={"RepetitionTime": 2.3})
    image("i2", "ann", ImageType.DWI, 0, "a0", "ge15")
    image("i3", "ann", ImageType.T1, 730, "a1", "siemens3")
    image("i4", "bob", ImageType.T1, 0, "b0", "ge15")
    image("i5", "cat", ImageType.RSFMRI, 365, "c1", "philips3")
    image("i6", "cat", ImageType.T1, 0, "c0", "philips3")
    image("i7", "dan", ImageType.FIELDMAP, None, None, None)
    image("i8", "eve", ImageType.T1, 100, "e0", "philips3")
    image("i9", "ann", ImageType.T1, 0, "a0", "siemens3", deleted_at=DELETED_AT)
    session.commit()
    return w


def age(baseline: float, days: int) -> float:
    """Age at a day since baseline, computed as the API does."""
    return baseline + days / 365.25


def store_image_files(world: World) -> dict[str, bytes]:
    """Put a small file in the app's storage for every image of the world: {image name: bytes}."""
    from app.storage import get_storage

    contents = {}
    for name, image in world.images.items():
        contents[name] = f"bytes of {name}".encode()
        get_storage().put(image.path, contents[name])
    return contents
