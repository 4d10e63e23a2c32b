"""Security headers on every response: no sniffing, a strict CSP, no caching of data."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request

from app.access.auth import PUBLIC_PATHS, PUBLIC_PREFIXES

# The API answers JSON, CSV and files: nothing in it may run scripts, load resources or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive documentation page runs Swagger UI from the app's own files (swagger_assets.py)
# with an inline bootstrap script; it loads nothing from elsewhere.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
WWW_AUTHENTICATE = 'Bearer realm="MBID-db"'


def add_security_headers(response: Response) -> Response:
    """Add the security headers to `response` (an after_request hook)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith("/api/"):
        is_docs = request.path.startswith(PUBLIC_PREFIXES)
        response.headers["Content-Security-Policy"] = DOCS_CSP if is_docs else API_CSP
        if not is_docs and request.path not in PUBLIC_PATHS:
            # Data behind a key must not stay in a browser's or a proxy's cache.
            response.headers["Cache-Control"] = "no-store"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def location_without_host(response: Response) -> Response:
    """Make a redirect to this server relative (an after_request hook).

    Werkzeug builds the Location of its own redirects (e.g. /dashboard to /dashboard/) from the
    request's Host header, which the client chooses: `Host: evil.example` would send the
    browser to evil.example. A root-relative Location reaches the same page on the host the
    client really used. Redirects to elsewhere (presigned storage URLs) are kept.
    """
    location = response.headers.get("Location")
    if location:
        parts = urlsplit(location)
        if parts.netloc and parts.netloc.lower() == request.host.lower():
            response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query,
                                                       parts.fragment))
    return response


def init_app(app: Flask) -> None:
    """Add the security headers to every response of `app`, and keep the Host header out of
    its redirects."""
    app.after_request(add_security_headers)
    app.after_request(location_without_host)
