"""Absolute links to the API's own routes, built from PUBLIC_BASE_URL, never from the request.

The Host header is whatever the client sent: a link built from it would point wherever the
client (or an attacker in front of it) wishes.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def public_base_url() -> str:
    """Return the configured public address of the API, without a trailing slash.

    PUBLIC_BASE_URL when set; else SERVER_NAME (with PREFERRED_URL_SCHEME) when set; else
    "" so that links are root-relative paths.
    """
    config = current_app.config
    if config.get("PUBLIC_BASE_URL"):
        return str(config["PUBLIC_BASE_URL"]).rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}"
    return ""


def public_url_for(endpoint: str, **values: Any) -> str:
    """Return the absolute public URL of `endpoint` (like url_for, without the Host header)."""
    return public_base_url() + url_for(endpoint, **values)
