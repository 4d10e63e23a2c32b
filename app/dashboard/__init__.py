"""The web dashboard at /dashboard: server-rendered pages over the API's own queries.

Sign-in is with an API token, remembered in Flask's signed session cookie (HttpOnly,
SameSite=Lax), never in a URL. The cookie holds the token's SHA-256, as the database does, not
the token: a cookie that leaks opens the dashboard until sign-out or revocation, never the API.
Every page runs with the key's access, so it shows only what the key may see.
"""
from __future__ import annotations

import logging
import secrets

from flask import Flask

from app.access.kept_secrets import kept_secret
from globals import INSTANCE_DIR

log = logging.getLogger(__name__)

# The session key kept in instance/ when SECRET_KEY is not configured.
SESSION_KEY_FILE = "dashboard-secret"


def _session_key(app: Flask) -> str:
    """The key that signs the dashboard's cookies when SECRET_KEY is not configured: the one
    kept in instance/ (created once, owner-only, shared by every worker and restart), or, for
    tests and where instance/ cannot be written, one for this process only."""
    if app.testing:
        return secrets.token_hex(32)
    try:
        return kept_secret(INSTANCE_DIR / SESSION_KEY_FILE)
    except (OSError, ValueError) as exc:
        log.warning("SECRET_KEY is not set and %s cannot be kept (%s): dashboard sign-ins end "
                    "when the server stops", SESSION_KEY_FILE, exc)
        return secrets.token_hex(32)


def init_app(app: Flask) -> None:
    """Register the dashboard and make sure its session cookie can be signed."""
    from app.dashboard import actions  # noqa: F401 (its routes join the blueprint)
    from app.dashboard.views import blueprint

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _session_key(app)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.register_blueprint(blueprint)
