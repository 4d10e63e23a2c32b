"""Blacklisted images leave every query of an API request, in one place: a session hook adds
"image is not blacklisted" to every SELECT that reaches the image table (FROM, joins, EXISTS,
counts), so collections, single rows, totals, /stats, CSV exports, downloads and the counts of
other resources all agree. The same rule applies to every table that copies an image's QC state
(image_measure, whose rows a measure-filtered total counts without the image table). A request
asking for them (`qc=all` or `qc=blacklisted` on /images and /stats, or a QC review route) calls
`include_blacklisted()` first.
"""
from __future__ import annotations

import functools
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from app.extensions import db
from app.models import QcState

INCLUDE_ALL = "all"
# Kept in the request's environ, not in `g`: an app context (and its g) may outlive a request.
FLAG = "mbid.qc_include_blacklisted"


def include_blacklisted() -> None:
    """Let the rest of this request see blacklisted images too."""
    request.environ[FLAG] = True


def qc_state_models() -> list[Any]:
    """Return every mapped class that holds an image's QC state in a `qc_state` column (the
    image, and the read models that copy it)."""
    return [mapper.class_ for mapper in db.Model.registry.mappers
            if "qc_state" in mapper.columns]


@functools.cache
def _hiding_options() -> tuple[Any, ...]:
    # Built once per process (the mapped classes are fixed once the models are imported): built
    # per statement they cost a third of a page statement's time in the ORM. The value, not the
    # enum: a copy holds the state as a plain string.
    return tuple(with_loader_criteria(model, model.qc_state != QcState.BLACKLISTED.value,
                                      include_aliases=True)
                 for model in qc_state_models())


def _hide_blacklisted(state: ORMExecuteState) -> None:
    if (not state.is_select or not has_request_context()
            or request.environ.get(FLAG)):
        return
    state.statement = state.statement.options(*_hiding_options())


def init_qc_state() -> None:
    """Install the hook on the app's session (once per process; it is idempotent)."""
    if not event.contains(db.session, "do_orm_execute", _hide_blacklisted):
        event.listen(db.session, "do_orm_execute", _hide_blacklisted)
