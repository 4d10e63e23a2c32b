"""Link each image to its visit: the session it was acquired in, else the closest visit on or
before its day (an as-of join per subject, never a later visit)."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Subject, Visit
from load_db.engine.report import LoadReport
from load_db.engine.upsert import rows_in

NO_PAST_VISIT = "image has no visit on or before its acquisition day: stored without a visit"
NO_DAY_NO_VISIT = "image has neither a session nor a day to find its visit: stored without a visit"


def dataset_subjects(dataset_id: int):
    """The ids of a dataset's subjects, as a subquery."""
    return select(Subject.id).where(Subject.dataset_id == dataset_id).scalar_subquery()


def visit_table(session: Session, dataset_id: int,
                subject_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Every visit of the dataset (of the subjects `subject_ids` only, when given: a chunk's):
    visit_id, subject_id, external_id, days_since_baseline, condition_id."""
    query = select(Visit.id, Visit.subject_id, Visit.external_id, Visit.days_since_baseline,
                   Visit.condition_id)
    if subject_ids is None:
        rows = session.execute(query.where(Visit.subject_id.in_(dataset_subjects(dataset_id))))
        rows = rows.all()
    else:
        rows = rows_in(session, query, Visit.subject_id, subject_ids)
    table = pd.DataFrame(rows, columns=["visit_id", "subject_id", "external_id",
                                              "days_since_baseline", "condition_id"])
    return table.astype({"visit_id": "int64", "subject_id": "int64",
                         "days_since_baseline": "Int64", "condition_id": "Int64"})


def link_visits(images: pd.DataFrame, visits: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """Give every image a `visit_id` and drop its `visit` label.

    An image acquired in a session that is itself a visit (BIDS) belongs to that visit.
    Otherwise it belongs to the visit of the same day, else to the closest visit before it;
    never to a later one. With no such visit it keeps none, and the report says so.
    Ties (two visits of one subject on the same day) go to the visit whose id sorts last.
    """
    images = images.reset_index(drop=True)
    visit_id = pd.Series(pd.NA, index=images.index, dtype="Int64")
    if "visit" in images.columns:
        by_label = images[["subject_id", "visit"]].merge(
            visits[["subject_id", "external_id", "visit_id"]],
            left_on=["subject_id", "visit"], right_on=["subject_id", "external_id"], how="left")
        visit_id = by_label["visit_id"].astype("Int64")
    if "days_since_baseline" in images.columns:
        pending = visit_id.isna() & images["days_since_baseline"].notna()
        if pending.any() and len(visits):
            dated = visits.dropna(subset=["days_since_baseline"]).astype(
                {"days_since_baseline": "int64"}).sort_values(["days_since_baseline", "visit_id"])
            wanted = (images.loc[pending, ["subject_id", "days_since_baseline"]]
                      .astype({"days_since_baseline": "int64"})
                      .reset_index().sort_values("days_since_baseline"))
            candidates = dated[["subject_id", "days_since_baseline", "visit_id"]]
            matched = pd.merge_asof(wanted, candidates, on="days_since_baseline", by="subject_id",
                                    direction="backward")
            found = matched["visit_id"].astype("Int64").to_numpy()
            visit_id.loc[matched["index"].to_numpy()] = found
        no_day = visit_id.isna() & images["days_since_baseline"].isna()
    else:
        no_day = visit_id.isna()
    no_past = visit_id.isna() & ~no_day
    for reason, mask in ((NO_PAST_VISIT, no_past), (NO_DAY_NO_VISIT, no_day)):
        if mask.any():
            report.note(reason, images.loc[mask, "path"].head(LoadReport.MAX_EXAMPLES).tolist(),
                        count=int(mask.sum()))
    return images.drop(columns=["visit"], errors="ignore").assign(visit_id=visit_id)
