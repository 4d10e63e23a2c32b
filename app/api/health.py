"""GET /health: public; says whether the API, its database and its object storage answer.

It says only up or down: no version, host, error text or anything else that helps an attacker.
"""
from __future__ import annotations

import logging
import threading

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.query import Blueprint, NoArgs
from app.extensions import db
from app.http.errors import RETRY_AFTER_SECONDS
from app.storage import Storage, StorageError, get_storage

log = logging.getLogger(__name__)

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Service health")

# A prefix that is listed, never written: listing it proves storage answers and its bucket
# exists (a lookup of a missing object cannot tell a missing bucket from a missing object).
PROBE_PREFIX = "health/probe"
STATES = ("up", "down")
# The storage client retries and waits long for a single request (10 s to connect, 5 tries);
# a health check must answer sooner, so the probe runs in a thread and counts as down after
# this long. A probe stuck on a dead endpoint keeps its thread until the client gives up.
STORAGE_PROBE_SECONDS = 3.0


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "degraded"]), metadata={
        "description": "ok when every part is up (200), else degraded (503).", "example": "ok"})
    database = fields.String(required=True, validate=validate.OneOf(STATES),
                             metadata={"example": "up"})
    storage = fields.String(required=True, validate=validate.OneOf(STATES),
                            metadata={"example": "up"})


def database_is_up() -> bool:
    """Return whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("health: the database does not answer", exc_info=True)
        db.session.rollback()
        return False
    return True


def _probe(storage: Storage, answered: list[bool]) -> None:
    try:
        next(iter(storage.list(PROBE_PREFIX)), None)
    except (StorageError, OSError):
        log.warning("health: object storage does not answer", exc_info=True)
    else:
        answered.append(True)


def storage_is_up() -> bool:
    """Return whether object storage answers a listing (of a prefix that need not exist)
    within STORAGE_PROBE_SECONDS."""
    try:
        storage = get_storage()
    except StorageError:
        log.warning("health: object storage is misconfigured", exc_info=True)
        return False
    answered: list[bool] = []
    # A thread of its own per check: a probe stuck on a dead endpoint delays no later check.
    thread = threading.Thread(target=_probe, args=(storage, answered), daemon=True,
                              name="health-storage-probe")
    thread.start()
    thread.join(STORAGE_PROBE_SECONDS)
    if thread.is_alive():
        log.warning("health: object storage did not answer within %s s", STORAGE_PROBE_SECONDS)
    return bool(answered)


@blp.route("")
class Health(MethodView):
    @blp.arguments(NoArgs, location="query", as_kwargs=False)
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database or storage is down.")
    @blp.doc(security=[])
    def get(self, _args):
        """Report whether the API, its database and its object storage answer."""
        parts = {"database": database_is_up(), "storage": storage_is_up()}
        body = {"status": "ok" if all(parts.values()) else "degraded",
                **{name: "up" if up else "down" for name, up in parts.items()}}
        if all(parts.values()):
            return body
        return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
