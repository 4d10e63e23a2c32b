"""Cross-origin requests (CORS) to the API, for the origins listed in CORS_ORIGINS only.

None by default: a browser page on another origin may call the API only when its origin is
configured. Tokens travel in the Authorization header, never in cookies, so credentials are
not allowed.
"""
from __future__ import annotations

from flask import Flask

# What a page on an allowed origin may read besides the simple headers.
EXPOSED_HEADERS = ["Content-Disposition", "Retry-After", "WWW-Authenticate"]


def init_app(app: Flask) -> None:
    """Answer CORS preflights and add CORS headers for the configured origins (if any)."""
    origins = list(app.config.get("CORS_ORIGINS") or [])
    if not origins:
        return
    from flask_cors import CORS  # only when some origin is allowed

    CORS(app, resources={r"/api/*": {"origins": origins}}, supports_credentials=False,
         allow_headers=["Authorization", "Content-Type"], expose_headers=EXPOSED_HEADERS,
         methods=["GET", "POST", "DELETE", "OPTIONS"], max_age=600)
