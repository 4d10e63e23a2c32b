"""Bearer-token authentication for every API route but the public ones."""
from __future__ import annotations

import hashlib
import secrets

from flask import Flask, abort, g, request
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey

TOKEN_PREFIX = "mbid_"
# Paths anyone may read: the health check and the API's own documentation.
PUBLIC_PATHS = {"/api/v1/health", "/api/v1/openapi.json"}
PUBLIC_PREFIXES = ("/api/v1/docs",)


def new_token() -> str:
    """Return a fresh random token (shown once to its owner, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a token.

    A fast hash is enough: tokens are 256 random bits, so there is nothing to brute-force.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(name: str) -> tuple[ApiKey, str]:
    """Add a key named `name` to the session and return it with its clear-text token."""
    token = new_token()
    key = ApiKey(name=name, token_hash=hash_token(token), token_prefix=token[:12])
    db.session.add(key)
    return key, token


def key_for_token(token: str) -> ApiKey | None:
    """Return the active key a token belongs to, or None."""
    return db.session.scalar(
        select(ApiKey).where(ApiKey.token_hash == hash_token(token), ApiKey.revoked_at.is_(None))
    )


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or not path.startswith("/api/")


def require_token() -> None:
    """Reject a request to a protected path that carries no valid bearer token."""
    if request.method == "OPTIONS" or _is_public(request.path):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="missing bearer token: send 'Authorization: Bearer <token>'")
    key = key_for_token(token.strip())
    if key is None:
        abort(401, description="invalid or revoked API key")
    g.api_key_name = key.name


def init_app(app: Flask) -> None:
    """Check the token before every request."""
    app.before_request(require_token)


