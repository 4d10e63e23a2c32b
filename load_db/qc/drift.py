"""Header drift (DATMAN's gold standards): each image's header compared with the current gold
standard of its dataset, site and tag, field by field, after an ignore list, numbers within an
absolute tolerance per field. A standard changes only by a new version (a new header, ignore
list or tolerance), and every change judges the images of its tag again.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.models import GoldStandard, HeaderDrift, Image, SeriesTag
from load_db.study import Drift

# Bookkeeping, not acquisition: never compared.
NOT_COMPARED = ("rule", "SeriesNumber", "SeriesDescription", "ProtocolName")


def header_of(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of an image's stored header that a standard compares."""
    return {key: value for key, value in (metadata or {}).items() if key not in NOT_COMPARED}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _within(expected: Any, actual: Any, tolerance: float) -> bool:
    if _number(expected) and _number(actual):
        return abs(float(expected) - float(actual)) <= tolerance
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return all(_within(e, a, tolerance) for e, a in zip(expected, actual, strict=True))
    return expected == actual


def differences(header: dict[str, Any], standard: GoldStandard) -> list[dict[str, Any]]:
    """Each field of the standard (not ignored) that the header misses or differs in."""
    out = []
    for name in sorted(standard.header):
        if name in standard.ignore:
            continue
        tolerance = standard.tolerances.get(name)
        expected, actual = standard.header[name], header.get(name)
        if not _within(expected, actual, float(tolerance or 0)):
            out.append({"field": name, "expected": expected, "actual": actual,
                        "tolerance": tolerance})
    return out


def current_standards(session: Session, dataset_id: int) -> dict[tuple[str, str], GoldStandard]:
    """{(site, tag): the newest version of its standard} of a dataset."""
    newest = (select(GoldStandard.site, GoldStandard.tag,
                     func.max(GoldStandard.version).label("version"))
              .where(GoldStandard.dataset_id == dataset_id)
              .group_by(GoldStandard.site, GoldStandard.tag).subquery())
    rows = session.scalars(select(GoldStandard).join(newest, (
        (GoldStandard.site == newest.c.site) & (GoldStandard.tag == newest.c.tag)
        & (GoldStandard.version == newest.c.version))).where(
        GoldStandard.dataset_id == dataset_id))
    return {(row.site, row.tag): row for row in rows}


def judge(session: Session, standard: GoldStandard) -> int:
    """Compare every image of the standard's tag (and site; "" is every site without a
    standard of its own) with it, replacing their previous judgement. Returns how many."""
    query = (select(Image.id, Image.metadata_json)
             .join(SeriesTag, SeriesTag.image_id == Image.id)
             .where(SeriesTag.dataset_id == standard.dataset_id, SeriesTag.tag == standard.tag))
    if standard.site:
        query = query.where(SeriesTag.site == standard.site)
    else:
        own = [site for site, tag in current_standards(session, standard.dataset_id)
               if tag == standard.tag and site]
        query = query.where(SeriesTag.site.not_in(own)) if own else query
    rows = []
    for image_id, metadata in session.execute(query):
        found = differences(header_of(metadata), standard)
        rows.append({"image_id": image_id, "gold_standard_id": standard.id,
                     "standard_version": standard.version, "drifted": bool(found),
                     "differences": found})
    ids = [row["image_id"] for row in rows]
    for start in range(0, len(ids), 500):
        session.execute(delete(HeaderDrift).where(HeaderDrift.image_id.in_(ids[start:start + 500])))
    if rows:
        session.execute(insert(HeaderDrift), rows)
    return len(rows)


def set_standard(session: Session, dataset_id: int, tag: str, *, site: str = "",
                 header: dict[str, Any] | None = None, ignore: list[str] | None = None,
                 tolerances: dict[str, float] | None = None,
                 source_image_id: int | None = None) -> GoldStandard:
    """Write a new version of a standard (what is not given is kept from the previous one) and
    judge the images of its tag against it. Never commits."""
    site = site.upper()
    previous = current_standards(session, dataset_id).get((site, tag))
    if header is None and previous is None:
        raise ValueError(f"no gold standard of tag {tag!r} yet: give a header or an image")
    standard = GoldStandard(
        dataset_id=dataset_id, site=site, tag=tag,
        version=previous.version + 1 if previous else 1,
        header=header if header is not None else previous.header,
        ignore=sorted(ignore) if ignore is not None else (previous.ignore if previous else []),
        tolerances=(tolerances if tolerances is not None
                    else (previous.tolerances if previous else {})),
        source_image_id=source_image_id if header is not None else (
            previous.source_image_id if previous else None))
    session.add(standard)
    session.flush()
    judge(session, standard)
    return standard


def apply_settings(session: Session, dataset_id: int, drift: Drift | None) -> None:
    """After a load: standards whose ignore list or tolerances differ from the study's drift
    settings (if it has any) get a new version; every current standard judges its tag's images
    (new ones included)."""
    settings = drift.settings if drift is not None else None
    for standard in current_standards(session, dataset_id).values():
        if settings and (standard.ignore != settings["ignore"]
                         or standard.tolerances != settings["tolerances"]):
            set_standard(session, dataset_id, standard.tag, site=standard.site,
                         ignore=settings["ignore"], tolerances=settings["tolerances"])
        else:
            judge(session, standard)
