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

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the dashboard and make sure its session cookie can be signed."""
    from app.dashboard.views import blueprint

    if not app.config.get("SECRET_KEY"):
        # No key configured: sessions still work, for this process only.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        if not app.testing:
            log.warning("SECRET_KEY is not set: dashboard sign-ins end when the server stops")
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.register_blueprint(blueprint)
