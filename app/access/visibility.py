"""Per-dataset grants, applied in one place: every ORM query of a request sees only the rows of
the datasets its key may see.

A session hook adds, to every SELECT run while a restricted key's request is served, the
criterion "dataset is visible" for every table that belongs to a dataset (the `dataset` table by
its id; any table with a `dataset_id` column by that column), wherever it appears: FROM, joins,
subqueries, EXISTS, counts. So collections, single rows (404), totals, /stats, CSV exports and
downloads all honour the grants without a line of their own (image_measure too: it copies its
image's dataset_id, and a measure-filtered total counts its rows alone). Tables without
`dataset_id` (visit)
are reached through one that has it (subject), which every route joins; an assessment, read in
subqueries of its own (a measure's value, a distribution, and whatever counts them next), gets
the criterion "its subject is visible" (SUBJECT_OWNED). The one exception: the
dataset designations fetched with the key (app/access/designations.py), before the hook can apply,
pass through `visible_dataset_rows` (a hidden one is a 400 as for an unknown designation).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from app.access.current import visible_dataset_ids
from app.extensions import db
from app.models import Assessment, Dataset, Subject

# Tables that belong to a dataset through their `subject_id` alone, filtered by it.
SUBJECT_OWNED = (Assessment,)


def dataset_owned_models() -> list[Any]:
    """Return every mapped class that belongs to a dataset through a `dataset_id` column."""
    return [mapper.class_ for mapper in db.Model.registry.mappers
            if "dataset_id" in mapper.columns]


def visible_dataset_rows(ids: list[int]) -> list[int]:
    """Return the dataset ids among `ids` that the request's key may see: the hook's rule for
    the `dataset` table, for ids fetched before the hook could apply (designations.py)."""
    visible = visible_dataset_ids()
    return ids if visible is None else [row_id for row_id in ids if row_id in visible]


def _only_visible_datasets(state: ORMExecuteState) -> None:
    visible = visible_dataset_ids()
    if visible is None or not state.is_select:
        return
    ids = sorted(visible)
    options = [with_loader_criteria(Dataset, Dataset.id.in_(ids), include_aliases=True)]
    options += [with_loader_criteria(model, model.dataset_id.in_(ids), include_aliases=True)
                for model in dataset_owned_models()]
    visible_subjects = select(Subject.id).where(Subject.dataset_id.in_(ids))
    options += [with_loader_criteria(model, model.subject_id.in_(visible_subjects),
                                     include_aliases=True)
                for model in SUBJECT_OWNED]
    state.statement = state.statement.options(*options)


def init_visibility() -> None:
    """Install the hook on the app's session (once per process; it is idempotent)."""
    if not event.contains(db.session, "do_orm_execute", _only_visible_datasets):
        event.listen(db.session, "do_orm_execute", _only_visible_datasets)
