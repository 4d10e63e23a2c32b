"""Claims with leases: take images (or subjects) for a task so that no two workers hold one.

The `claim` table is the queue: one row per task and image (or task and subject). `claim`
first adds the rows missing for the candidate images, then leases up to `limit` rows that are
pending or whose lease expired, in one statement:

    UPDATE claim SET state = 'leased', ... WHERE id IN (
        SELECT id FROM claim WHERE <claimable> ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED)
    RETURNING ...

On PostgreSQL `FOR UPDATE SKIP LOCKED` lets concurrent workers pass each other's rows instead of
waiting or taking them twice. SQLite has no row locks: the transaction starts with
`BEGIN IMMEDIATE`, so one writer at a time claims. Each lease carries a fresh random token; only
its holder may renew, complete or fail the claim, and a lease taken again after it expired has a
new token, so a worker that comes back late is refused (LeaseLost).

These functions work on a plain SQLAlchemy session (the API's or a worker's own) and never
commit: the caller commits (see app/api/claims.py).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, true, update
from sqlalchemy.orm import Session

from app.models import Claim, ClaimState, Image, PreprocessState
from app.models.base import utcnow

DEFAULT_LEASE_SECONDS = 300
DEFAULT_MAX_FAILURES = 3
MAX_LEASE_SECONDS = 7 * 24 * 3600
MAX_CLAIMS_PER_CALL = 1000


class LeaseLost(Exception):
    """The claim is not held with this lease token (finished, failed, or taken again)."""


@dataclass(frozen=True)
class Lease:
    """A claim held by a worker: what it covers and until when."""

    claim_id: int
    task: str
    subject_id: int
    # None for a subject claim (every image of the subject).
    image_id: int | None
    lease_token: str
    lease_expires_at: datetime
    attempts: int
    state: ClaimState = ClaimState.LEASED


_LEASE_COLUMNS = (Claim.id, Claim.task, Claim.subject_id, Claim.image_id, Claim.lease_token,
                  Claim.lease_expires_at, Claim.attempts, Claim.state)


def _lease(row) -> Lease:
    return Lease(row.id, row.task, row.subject_id, row.image_id, row.lease_token,
                 row.lease_expires_at, row.attempts, ClaimState(row.state))


def begin_write(session: Session) -> None:
    """On SQLite, start the transaction with BEGIN IMMEDIATE: the write lock is taken first.

    A deferred transaction that reads and then writes can fail with "database is locked" when
    another writer came in between; an immediate one waits for its turn instead. PostgreSQL
    needs nothing here (row locks do the work).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _insert(session: Session):
    # The dialect's own INSERT (for ON CONFLICT), imported with the dialect in use only.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Claim)


def _enqueue(session: Session, task: str, candidates: Select | None, per_subject: bool) -> None:
    """Add the queue rows missing for the candidate images (or their subjects)."""
    images = select(Image.id, Image.subject_id).where(Image.deleted_at.is_(None))
    if candidates is not None:
        images = images.where(Image.id.in_(candidates))
    if per_subject:
        subject_ids = images.with_only_columns(Image.subject_id).distinct().subquery()
        missing = (
            select(subject_ids.c.subject_id)
            .where(~exists().where(Claim.task == task, Claim.image_id.is_(None),
                                   Claim.subject_id == subject_ids.c.subject_id))
            .order_by(subject_ids.c.subject_id))
        # WHERE true: SQLite reads `SELECT ... FROM x ON CONFLICT` as a join without it.
        rows = select(missing.subquery().c.subject_id, _literal(task)).where(true())
        columns = ["subject_id", "task"]
    else:
        rows = (images.add_columns(_literal(task))
                .where(~exists().where(Claim.task == task, Claim.image_id == Image.id))
                .order_by(Image.id))
        columns = ["image_id", "subject_id", "task"]
    # Rows in id order, so that concurrent enqueuers wait on each other instead of deadlocking;
    # a row another worker added meanwhile is skipped.
    session.execute(_insert(session).from_select(columns, rows).on_conflict_do_nothing())


def _literal(task: str):
    return literal(task, Claim.task.type).label("task")


def claim(
    session: Session,
    task: str,
    worker: str,
    *,
    limit: int = 1,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    candidates: Select | None = None,
    per_subject: bool = False,
) -> list[Lease]:
    """Lease up to `limit` images (or subjects) that still need `task`; the caller commits.

    Parameters
    ----------
    task
        The processing task's name (e.g. the worker module's name).
    worker
        Who takes the claims (recorded; any label, e.g. "host:pid").
    candidates
        A SELECT of image ids to choose from (e.g. the /images filters); None for every image.
    per_subject
        Claim whole subjects: each lease covers every image of one subject (for tasks that need
        all of a subject's images at once). Subject claims and image claims of one task are
        separate queues.

    Returns the leases, in claim id order; empty when nothing is left to claim. Taking a lease
    marks its images `locked`.
    """
    begin_write(session)
    _enqueue(session, task, candidates, per_subject)
    now = utcnow()
    claimable = and_(
        Claim.task == task,
        Claim.image_id.is_(None) if per_subject else Claim.image_id.is_not(None),
        or_(Claim.state == ClaimState.PENDING,
            and_(Claim.state == ClaimState.LEASED, Claim.lease_expires_at < now)))
    if candidates is not None:
        if per_subject:
            claimable = and_(claimable, Claim.subject_id.in_(
                select(Image.subject_id).where(Image.id.in_(candidates))))
        else:
            claimable = and_(claimable, Claim.image_id.in_(candidates))
    picked = select(Claim.id).where(claimable).order_by(Claim.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    statement = (
        update(Claim)
        .where(Claim.id.in_(picked.scalar_subquery()))
        .values(state=ClaimState.LEASED, worker=worker, lease_token=secrets.token_hex(16),
                leased_at=now, lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Claim.attempts + 1, updated_at=now)
        .returning(*_LEASE_COLUMNS)
        .execution_options(synchronize_session=False))
    leases = sorted((_lease(row) for row in session.execute(statement)),
                    key=lambda lease: lease.claim_id)
    _mark_images(session, leases, PreprocessState.LOCKED)
    return leases


def _held(claim_id: int, lease_token: str):
    return and_(Claim.id == claim_id, Claim.lease_token == lease_token,
                Claim.state == ClaimState.LEASED)


def _one(session: Session, statement, claim_id: int) -> Lease:
    row = session.execute(statement.returning(*_LEASE_COLUMNS)
                          .execution_options(synchronize_session=False)).first()
    if row is None:
        raise LeaseLost(f"claim {claim_id} is not held with this lease token (finished, failed "
                        "or taken again after its lease expired)")
    return _lease(row)


def renew(session: Session, claim_id: int, lease_token: str,
          lease_seconds: float = DEFAULT_LEASE_SECONDS) -> Lease:
    """Extend a held lease to `lease_seconds` from now (a heartbeat); the caller commits.

    A lease that expired but was not taken again can still be renewed. Raises LeaseLost.
    """
    begin_write(session)
    now = utcnow()
    return _one(session, update(Claim).where(_held(claim_id, lease_token)).values(
        lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now), claim_id)


def complete(session: Session, claim_id: int, lease_token: str) -> Lease:
    """Mark a held claim done and its images `minimal` (processed); the caller commits.

    Raises LeaseLost, so a claim is completed once: by the holder of its current lease.
    """
    begin_write(session)
    now = utcnow()
    lease = _one(session, update(Claim).where(_held(claim_id, lease_token)).values(
        state=ClaimState.DONE, completed_at=now, lease_expires_at=None, updated_at=now),
        claim_id)
    _mark_images(session, [lease], PreprocessState.MINIMAL)
    return lease


def fail(session: Session, claim_id: int, lease_token: str, error: str,
         max_failures: int = DEFAULT_MAX_FAILURES) -> Lease:
    """Release a held claim after a failure; the caller commits.

    The claim goes back to the queue (its images `none`) until it has failed `max_failures`
    times, then it is failed for good (its images `failed`). Raises LeaseLost.
    """
    begin_write(session)
    now = utcnow()
    final = Claim.failures + 1 >= max_failures
    lease = _one(session, update(Claim).where(_held(claim_id, lease_token)).values(
        failures=Claim.failures + 1, last_error=error, lease_token=None, lease_expires_at=None,
        state=case((final, ClaimState.FAILED.value), else_=ClaimState.PENDING.value),
        updated_at=now), claim_id)
    _mark_images(session, [lease], PreprocessState.FAILED if lease.state == ClaimState.FAILED
                 else PreprocessState.NONE)
    return lease


def progress(session: Session, task: str) -> dict[str, int]:
    """Return how many queue rows of `task` are in each state (every state named)."""
    counts = dict(session.execute(
        select(Claim.state, func.count()).where(Claim.task == task).group_by(Claim.state)).all())
    return {state.value: counts.get(state, counts.get(state.value, 0)) for state in ClaimState}


def _mark_images(session: Session, leases: list[Lease], state: PreprocessState) -> None:
    """Set image.preprocessed of the images the leases cover."""
    image_ids = [lease.image_id for lease in leases if lease.image_id is not None]
    subject_ids = [lease.subject_id for lease in leases if lease.image_id is None]
    covered = []
    if image_ids:
        covered.append(Image.id.in_(image_ids))
    if subject_ids:
        covered.append(and_(Image.subject_id.in_(subject_ids), Image.deleted_at.is_(None)))
    if covered:
        session.execute(update(Image).where(or_(*covered)).values(preprocessed=state)
                        .execution_options(synchronize_session=False))
