"""Completeness of what was loaded: visits against the study's expected tags. Shared by the API
(app/api/qc.py) and `flask qc`.

Completeness (DATMAN's rules: counts report, never reject): per visit, each expected tag with
fewer series than its count is missing (with how many), one with more is repeated, and a series
whose tag is not expected at the visit's site (count 0) or that has no tag is unexpected. A
visit is complete when nothing is missing.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    UNTAGGED,
    Dataset,
    SeriesTag,
    StudyTag,
    Subject,
    Visit,
)


def expected_tags(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """{site: {tag: expected count}}; site "" holds the dataset-wide counts, and each site's
    entries already include the dataset-wide ones it does not replace."""
    by_site: dict[str, dict[str, int]] = defaultdict(dict)
    for site, tag, count in session.execute(
            select(StudyTag.site, StudyTag.tag, StudyTag.expected_count)
            .where(StudyTag.dataset_id == dataset_id)):
        by_site[site][tag] = count
    common = by_site.get("", {})
    return {site: {**common, **tags} for site, tags in by_site.items()} | {"": common}


def _inventory(series: list[SeriesTag]) -> dict[str, dict[str, Any]]:
    """{tag: {count, series_numbers, descriptions}} of one session's series."""
    out: dict[str, dict[str, Any]] = {}
    for row in sorted(series, key=lambda row: (row.series_number or 0, row.path)):
        entry = out.setdefault(row.tag, {"count": 0, "series_numbers": [], "descriptions": []})
        entry["count"] += 1
        entry["series_numbers"].append(row.series_number)
        entry["descriptions"].append(row.description)
    return out


def judge(series: list[SeriesTag], expected: dict[str, int]) -> dict[str, Any]:
    """The completeness of one visit's `series` against the `expected` counts of its site."""
    inventory = _inventory(series)
    received = {tag: entry["count"] for tag, entry in inventory.items() if tag != UNTAGGED}
    missing = {tag: count - received.get(tag, 0) for tag, count in sorted(expected.items())
               if received.get(tag, 0) < count}
    repeated = {tag: received[tag] - count for tag, count in sorted(expected.items())
                if count > 0 and received.get(tag, 0) > count}
    unexpected = [{"tag": row.tag, "series_number": row.series_number,
                   "description": row.description, "reason": row.reason}
                  for row in sorted(series, key=lambda row: (row.series_number or 0, row.path))
                  if row.tag == UNTAGGED or not expected.get(row.tag)]
    return {"complete": not missing, "missing": missing, "repeated": repeated,
            "unexpected": unexpected, "inventory": inventory}


def _visit_rows(session: Session, visit_ids: Iterable[int]) -> list[Any]:
    return list(session.execute(
        select(Visit.id, Visit.external_id, Subject.external_id.label("subject"),
               Subject.dataset_id, Dataset.designation)
        .join(Subject, Subject.id == Visit.subject_id)
        .join(Dataset, Dataset.id == Subject.dataset_id)
        .where(Visit.id.in_(list(visit_ids)))
        .order_by(Dataset.designation, Subject.external_id, Visit.external_id)))


def visit_completeness(session: Session, visit_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The completeness of each visit of `visit_ids` (one without a series inventory is judged
    as empty, against its dataset's expected tags of every site)."""
    visit_ids = list(visit_ids)
    series: dict[int, list[SeriesTag]] = defaultdict(list)
    for start in range(0, len(visit_ids), 500):
        for row in session.scalars(select(SeriesTag).where(
                SeriesTag.visit_id.in_(visit_ids[start:start + 500]))):
            series[row.visit_id].append(row)
    expected_by_dataset: dict[int, dict[str, dict[str, int]]] = {}
    out = []
    for start in range(0, len(visit_ids), 500):
        for visit in _visit_rows(session, visit_ids[start:start + 500]):
            rows = series.get(visit.id, [])
            if visit.dataset_id not in expected_by_dataset:
                expected_by_dataset[visit.dataset_id] = expected_tags(session, visit.dataset_id)
            by_site = expected_by_dataset[visit.dataset_id]
            site = rows[0].site if rows else ""
            out.append({"visit_id": visit.id, "dataset": visit.designation,
                        "subject": visit.subject, "visit": visit.external_id, "site": site,
                        "sessions": sorted({row.session for row in rows}),
                        **judge(rows, by_site.get(site, by_site[""]))})
    return out


def dataset_completeness(session: Session, dataset_id: int | None = None, *,
                         complete: bool | None = None, site: str | None = None
                         ) -> dict[str, Any]:
    """Every visit with an inventory of a dataset (None: of every dataset), judged (only
    complete or incomplete ones, of one site, when asked), and the phantom sessions apart
    (inventory only)."""
    in_dataset = (SeriesTag.dataset_id == dataset_id if dataset_id is not None
                  else SeriesTag.dataset_id.is_not(None))
    query = select(SeriesTag.visit_id).where(in_dataset,
                                             SeriesTag.visit_id.is_not(None)).distinct()
    if site is not None:
        query = query.where(SeriesTag.site == site.upper())
    visits = visit_completeness(session, session.scalars(query))
    if complete is not None:
        visits = [visit for visit in visits if visit["complete"] is complete]
    phantom_query = (select(SeriesTag, Dataset.designation)
                     .join(Dataset, Dataset.id == SeriesTag.dataset_id)
                     .where(in_dataset, SeriesTag.phantom.is_(True)))
    if site is not None:
        phantom_query = phantom_query.where(SeriesTag.site == site.upper())
    phantoms: dict[tuple[str, str], list[SeriesTag]] = defaultdict(list)
    for row, designation in session.execute(phantom_query):
        phantoms[designation, row.session].append(row)
    return {"visits": visits,
            "phantoms": [{"dataset": designation, "session": name, "site": rows[0].site,
                          "inventory": _inventory(rows)}
                         for (designation, name), rows in sorted(phantoms.items())]}
