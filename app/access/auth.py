"""Bearer-token authentication, scopes and per-dataset grants for every API route.

Every request to a protected path must carry `Authorization: Bearer <token>` of a key that is
neither revoked nor expired (else 401, with `WWW-Authenticate: Bearer`). Each route needs one
scope (`requires`; GET routes need `read` unless they say otherwise), else 403 naming it; the
few routes that serve counts alone (`requires(..., counts=True)`) also open to the counts-only
`aggregate` scope, whose counts are then suppressed below a threshold. A key
sees the datasets it was granted, or all of them: `visible_dataset_ids` says which, and the
query layer (app/access/visibility.py) applies it to every query of the request.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_smorest
from flask import Flask, current_app, g, request
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import TooManyRequests, Unauthorized

from app.access import audit, designations
from app.access.current import Access, current_access
from app.access.rate_limit import FixedWindowLimiter
from app.extensions import db
from app.models import DEFAULT_SCOPES, ApiKey, ApiKeyGrant, AuditAction, Dataset, Scope
from app.models.base import utcnow
from app.models.json_arrays import json_tuples

TOKEN_PREFIX = "mbid_"
# Paths anyone may read: the health check and the API's own documentation.
PUBLIC_PATHS = {"/api/v1/health", "/api/v1/openapi.json"}
PUBLIC_PREFIXES = ("/api/v1/docs",)
# last_used_at is written at most this often per key, so that reading costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The OpenAPI extension naming the scope an operation needs (absent: read for GET, else write).
SCOPE_EXTENSION = "x-required-scope"
# The OpenAPI extension naming the other scope that opens an operation of counts: aggregate.
COUNTS_SCOPE_EXTENSION = "x-counts-scope"
_RATE_LIMITER = "mbid_rate_limiter"


def new_token() -> str:
    """Return a fresh random token (shown once to its owner, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a token.

    A fast hash is enough: tokens are 256 random bits, so there is nothing to brute-force.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC time (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def create_api_key(
    name: str,
    *,
    scopes: Iterable[Scope | str] = DEFAULT_SCOPES,
    datasets: Iterable[Dataset] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Add a key named `name` to the session and return it with its clear-text token.

    Parameters
    ----------
    scopes
        What the key may do (default read and download).
    datasets
        The datasets it may see; None (the default) means every dataset, present and future.
    expires_at
        When the key stops working; None for never.
    """
    token = new_token()
    scope_values = sorted({Scope(scope) for scope in scopes}, key=list(Scope).index)
    key = ApiKey(name=name, token_hash=hash_token(token), token_prefix=token[:12],
                 scopes=[scope.value for scope in scope_values],
                 all_datasets=datasets is None, expires_at=expires_at)
    granted = list(datasets or [])
    key.grants = [ApiKeyGrant(dataset=dataset) for dataset in granted]
    db.session.add(key)
    audit.record(AuditAction.KEY_CREATE, name, datasets=granted, details={
        "scopes": key.scopes, "all_datasets": key.all_datasets,
        "expires_at": expires_at.isoformat() if expires_at else None})
    return key, token


def revoke_api_key(key: ApiKey) -> None:
    """Revoke `key` (its token stops working at once) and log it; no-op if already revoked."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(AuditAction.KEY_REVOKE, key.name)


def grant_dataset(key: ApiKey, dataset: Dataset) -> bool:
    """Let `key` see `dataset` and log it; return False if it already could."""
    if key.all_datasets or any(grant.dataset_id == dataset.id for grant in key.grants):
        return False
    key.grants.append(ApiKeyGrant(dataset=dataset))
    audit.record(AuditAction.KEY_GRANT, key.name, datasets=[dataset])
    return True


def revoke_grant(key: ApiKey, dataset: Dataset) -> bool:
    """Take `dataset` away from `key` and log it; return False if it had no such grant."""
    grant = next((grant for grant in key.grants if grant.dataset_id == dataset.id), None)
    if grant is None:
        return False
    key.grants.remove(grant)
    audit.record(AuditAction.KEY_REVOKE_GRANT, key.name, datasets=[dataset])
    return True


def _is_key_of(token: str) -> ColumnElement[bool]:
    return and_(ApiKey.token_hash == hash_token(token), ApiKey.revoked_at.is_(None))


def key_for_token(token: str) -> ApiKey | None:
    """Return the unrevoked key a token belongs to (expired or not), or None."""
    return db.session.scalar(select(ApiKey).where(_is_key_of(token)))


# The ids of the datasets granted to the key of the enclosing statement, as a JSON array.
_GRANTED_IDS = (select(json_tuples(ApiKeyGrant.dataset_id))
                .where(ApiKeyGrant.api_key_id == ApiKey.id).scalar_subquery())


def _access_of_request(token: str) -> tuple[ApiKey, Access] | None:
    """key_for_token and the key's access, from one statement that also fetches the key's
    grants and the designations the request's parameters name (app/access/designations.py), where
    each would otherwise cost one more."""
    models, pairs = designations.prefetch(request.args)
    statement = select(ApiKey, _GRANTED_IDS, *pairs).where(_is_key_of(token))
    try:
        row = db.session.execute(statement).first()
    except DBAPIError as exc:
        # The request's first statement found its pooled connection dropped (a server restart
        # since it was last used: app/extensions.py checks only idle ones). SQLAlchemy has
        # invalidated the pool; nothing ran yet, so run it once more on a fresh connection.
        if not exc.connection_invalidated:
            raise
        db.session.rollback()
        row = db.session.execute(statement).first()
    if row is None:
        return None
    key, granted, *designation_pairs = row
    designations.remember(models, designation_pairs)
    return key, access_of(key, granted_ids=[dataset_id for (dataset_id,) in granted])


def requires(scope: Scope, *, counts: bool = False) -> Callable[[Any], Any]:
    """Decorate a MethodView method: a key needs `scope` to call it (documented in OpenAPI).

    `counts`: the method returns counts alone, so a key with the aggregate scope may call it
    too; it must then suppress small counts (app/query/stats.py, suppressed).
    """

    def decorate(method: Any) -> Any:
        extensions = {SCOPE_EXTENSION: scope.value}
        if counts:
            extensions[COUNTS_SCOPE_EXTENSION] = Scope.AGGREGATE.value
        documented = flask_smorest.Blueprint.doc(**extensions)(method)
        documented.required_scope = scope
        documented.serves_counts = counts
        return documented

    return decorate


def require_scope(scope: Scope, *, counts: bool = False) -> None:
    """Abort with a 403 naming `scope` unless the request's key carries it (or, when the
    route serves counts alone, the aggregate scope)."""
    access = current_access()
    if access is not None and (scope.value in access.scopes
                               or (counts and Scope.AGGREGATE.value in access.scopes)):
        return
    message = f"this API key lacks the '{scope.value}' scope"
    if access is not None and access.counts_only:
        # Say why a counts-only key is refused, and where its counts are.
        message += (f" (its '{Scope.AGGREGATE.value}' scope opens only /api/v1/stats, the "
                    "counts of the images matching the /images filters)")
    flask_smorest.abort(403, message=message)


def access_of(key: ApiKey, granted_ids: Iterable[int] | None = None) -> Access:
    """Return what `key` may do and see (set as the request's access once it is checked);
    `granted_ids`, the ids of the datasets granted to it, when already fetched."""
    if granted_ids is None and not key.all_datasets:
        granted_ids = [grant.dataset_id for grant in key.grants]
    return Access(
        key_name=key.name, scopes=frozenset(key.scopes),
        visible_dataset_ids=None if key.all_datasets else frozenset(granted_ids or ()))


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or not path.startswith("/api/")


def _scope_of_request() -> tuple[Scope, bool] | None:
    """The scope the matched route declares (by default read for GET and HEAD, else write),
    and whether it serves counts alone (then the aggregate scope opens it too)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None  # no such route: the 404 follows
    view_class = getattr(view, "view_class", None)
    method_name = "get" if request.method == "HEAD" else request.method.lower()
    handler = getattr(view_class, method_name, view) if view_class else view
    default = Scope.READ if request.method in ("GET", "HEAD") else Scope.WRITE
    return (getattr(handler, "required_scope", default),
            getattr(handler, "serves_counts", False))


def _note_use(key: ApiKey) -> None:
    """Set last_used_at when it is older than LAST_USED_RESOLUTION (one write a minute at most).

    The WHERE clause repeats the test, so concurrent requests still write once.
    """
    now = utcnow()
    if key.last_used_at is not None and now - as_utc(key.last_used_at) < LAST_USED_RESOLUTION:
        return
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, or_(ApiKey.last_used_at.is_(None),
                                        ApiKey.last_used_at <= now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _check_rate(key_name: str) -> None:
    limiter: FixedWindowLimiter | None = current_app.extensions.get(_RATE_LIMITER)
    if limiter is None:
        return
    retry_after = limiter.hit(key_name)
    if retry_after is not None:
        raise TooManyRequests(
            description=f"rate limit of {limiter.limit} requests per minute exceeded for this "
                        f"API key; retry in {retry_after} s",
            retry_after=retry_after)


def authenticate() -> None:
    """Check the bearer token, the rate limit and the route's scope before every API request."""
    g.pop("access", None)
    if request.method == "OPTIONS" or _is_public(request.path):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    found = _access_of_request(token.strip())
    if found is None:
        raise Unauthorized("invalid or revoked API key")
    key, access = found
    if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
        raise Unauthorized(f"API key expired on {as_utc(key.expires_at):%Y-%m-%d %H:%M} UTC")
    g.access = access
    _note_use(key)
    _check_rate(key.name)
    needed = _scope_of_request()
    if needed is not None:
        scope, counts = needed
        require_scope(scope, counts=counts)


def init_app(app: Flask) -> None:
    """Check the token before every request; set up the optional per-key rate limit."""
    per_minute = int(app.config.get("RATE_LIMIT_PER_MINUTE") or 0)
    if per_minute > 0:
        app.extensions[_RATE_LIMITER] = FixedWindowLimiter(per_minute, window_seconds=60)
    app.before_request(authenticate)
    # The app context, and so `g`, may outlive the request (a test client under an app context
    # reuses it): the key's access must not leak into what runs next.
    app.teardown_request(lambda _exc: g.pop("access", None))
