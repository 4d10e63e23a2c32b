"""One JSON error shape for every failure: {"status", "error", "message"}."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from flask_smorest import Api
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def error_body(status: int, error: str, message: str, **extra: Any) -> dict[str, Any]:
    """Return the error document every route answers with."""
    return {"status": status, "error": error, "message": message, **extra}


def _message_of(exc: HTTPException) -> str:
    """Prefer the message given to abort(); webargs validation errors name their fields."""
    data = getattr(exc, "data", None) or {}
    if data.get("message"):
        return str(data["message"])
    messages = data.get("messages")
    if messages:
        parts = []
        for location_errors in messages.values():
            for field, problems in location_errors.items():
                text = "; ".join(problems) if isinstance(problems, list) else str(problems)
                parts.append(f"{field}: {text}")
        return "invalid parameter " + ", ".join(parts)
    return exc.description or exc.name


def handle_http_exception(exc: HTTPException):
    """Render any HTTP error as JSON."""
    status = exc.code or 500
    response = jsonify(error_body(status, exc.name, _message_of(exc)))
    response.status_code = status
    for header, value in (exc.get_headers() or []):
        if header.lower() not in {"content-type", "content-length"}:
            response.headers[header] = value
    return response


def handle_integrity_error(exc: IntegrityError):
    """A write that breaks a unique or foreign key constraint is a conflict, not a crash."""
    log.warning("integrity error: %s", exc.orig)
    return jsonify(error_body(409, "Conflict", "the request conflicts with existing data")), 409


def handle_unexpected(exc: Exception):
    """Log the traceback, answer a JSON 500 without internals."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")
    return handle_http_exception(InternalServerError())


def init_app(app: Flask, api: Api) -> None:
    """Route every error of the app (and of flask-smorest) through the JSON renderers."""
    api.handle_http_exception = handle_http_exception  # flask-smorest registers its own
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)
