"""Write what a DICOM load saw into the QC tables: every series with its tag (series_tag), and
the tags the study configuration expects per visit (study_tag).

Reads the study model (load_db/study), never the DICOM adapter: the series come as the
adapter's `series` frame (one row per series: path, subject, visit, session, site, phantom,
series_number, description, tag, reason).

Runs in the load's transaction, after the engine wrote subjects, visits and images, so the
series can point at their visit and (when stored) their image.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.models import UNTAGGED, Image, SeriesTag, StudyTag, Subject, Visit
from load_db.engine.orchestration import dataset_id_for, storage_prefix_for
from load_db.qc.drift import apply_settings
from load_db.study import Study, Tag


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _study_rows(dataset_id: int, site: str, tags: dict[str, Tag]) -> list[dict[str, Any]]:
    return [{"dataset_id": dataset_id, "site": site, "tag": name,
             "expected_count": tag.count, "image_type": tag.type, "qc_kind": tag.qc_kind}
            for name, tag in tags.items()]


def record_study_tags(session: Session, dataset: str, study: Study) -> int:
    """Replace the dataset's expected tags with those of `study` (when it has any).

    Returns how many were written; a study file without tags leaves the last ones in place.
    """
    if not study.tags and not study.site_tags:
        return 0
    dataset_id = dataset_id_for(session, dataset)
    rows = _study_rows(dataset_id, "", study.tags)
    for site, tags in sorted(study.site_tags.items()):
        rows += _study_rows(dataset_id, site.upper(), tags)
    session.execute(delete(StudyTag).where(StudyTag.dataset_id == dataset_id))
    if rows:
        session.execute(insert(StudyTag), rows)
    return len(rows)


def record_inventory(session: Session, dataset: str, series: pd.DataFrame,
                     study: Study) -> int:
    """Keep every series of `series` (DicomFrames.series) in series_tag, replacing the rows of
    the same paths, and the study's expected tags. Returns the number of series written."""
    record_study_tags(session, dataset, study)
    if series.empty:
        return 0
    dataset_id = dataset_id_for(session, dataset)
    prefix = storage_prefix_for(session, dataset)
    visits = {(subject, visit): visit_id for visit_id, subject, visit in session.execute(
        select(Visit.id, Subject.external_id, Visit.external_id)
        .join(Subject, Subject.id == Visit.subject_id)
        .where(Subject.dataset_id == dataset_id))}
    images = dict(session.execute(select(Image.path, Image.id)
                                  .where(Image.dataset_id == dataset_id)).all())
    rows = []
    for record in series.to_dict("records"):
        # pandas holds a missing value as NaN: back to None
        entry = {key: None if _missing(value) else value for key, value in record.items()}
        path = f"{prefix}/{entry['path']}" if prefix else entry["path"]
        rows.append({
            "dataset_id": dataset_id, "path": path,
            "visit_id": visits.get((entry["subject"], entry["visit"])),
            "image_id": images.get(path), "session": str(entry["session"])[:128],
            "site": entry["site"] or "", "phantom": bool(entry["phantom"]),
            "series_number": (None if entry["series_number"] is None
                              else int(entry["series_number"])),
            "description": str(entry["description"])[:256],
            "tag": entry["tag"] or UNTAGGED,
            "reason": None if entry["reason"] is None else str(entry["reason"])[:256]})
    paths = [row["path"] for row in rows]
    for start in range(0, len(paths), 500):  # keeps IN lists within SQLite's variable limit
        session.execute(delete(SeriesTag).where(SeriesTag.dataset_id == dataset_id,
                                                SeriesTag.path.in_(paths[start:start + 500])))
    session.execute(insert(SeriesTag), rows)
    apply_settings(session, dataset_id, study.drift)
    return len(rows)
