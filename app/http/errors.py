"""One JSON error shape for every failure: {"status", "error", "message"} (+ "errors")."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    ServiceUnavailable,
)

from app.extensions import db

log = logging.getLogger(__name__)

# How long a client should wait before retrying when the database is unreachable: long enough
# for a restart, short enough that a client does not give up.
RETRY_AFTER_SECONDS = 30


class ErrorSchema(Schema):
    """The error document (documents the OpenAPI error responses)."""

    status = fields.Integer(required=True, metadata={"example": 400})
    error = fields.String(required=True, metadata={"example": "Bad Request"})
    message = fields.String(required=True, metadata={
        "example": "invalid parameter age_min: must not exceed age_max"})
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "For a bad request: the problems of each parameter, by name."})


def error_body(status: int, error: str, message: str, **extra: Any) -> dict[str, Any]:
    """Return the error document every route answers with."""
    return {"status": status, "error": error, "message": message, **extra}


def named_problems(name: str, problems: Any, *, indexes: bool = True) -> dict[str, list[str]]:
    """The messages of a marshmallow error value by the path of the value they are about:
    `name` itself, `name[0]` for the first value of a list (with `indexes`; without, the
    messages of every value go to `name`), `name.key` for a key of an object. Never a nested
    dict rendered as text."""
    if isinstance(problems, dict):
        found: dict[str, list[str]] = {}
        for key, value in problems.items():
            if isinstance(key, int):
                path = f"{name}[{key}]" if indexes else name
            else:
                path = f"{name}.{key}"
            for inner, messages in named_problems(path, value, indexes=indexes).items():
                found.setdefault(inner, []).extend(messages)
        return found
    if isinstance(problems, list):
        found = {}
        for value in problems:
            for inner, messages in named_problems(name, value, indexes=indexes).items():
                found.setdefault(inner, []).extend(messages)
        return found
    return {name: [str(problems)]}


def parameter_errors(exc: HTTPException) -> dict[str, list[str]]:
    """Return the problems of each bad parameter an error carries, by parameter name (a
    repeated parameter's bad values under its one name: the name is the contract)."""
    data = getattr(exc, "data", None) or {}
    found: dict[str, list[str]] = {}
    if data.get("errors"):
        for name, problems in data["errors"].items():
            found.update(named_problems(name, problems, indexes=False))
    else:
        # webargs validation errors arrive as {location: {parameter: problems}}, or as
        # {location: [problems]} when a JSON body is not an object at all.
        for location, location_errors in (data.get("messages") or {}).items():
            if isinstance(location_errors, dict):
                # "_schema" is marshmallow's name for the whole body: name the location.
                for name, problems in location_errors.items():
                    found.update(named_problems(location if name == "_schema" else name,
                                                problems, indexes=False))
            else:
                found.update(named_problems(location, location_errors, indexes=False))
    # Sorted by name: marshmallow reports unknown parameters in no fixed order.
    return dict(sorted(found.items()))


def _message_of(exc: HTTPException, errors: dict[str, list[str]]) -> str:
    """Prefer the message given to abort(); webargs validation errors name their fields."""
    data = getattr(exc, "data", None) or {}
    if data.get("message"):
        return str(data["message"])
    if isinstance(exc, RequestEntityTooLarge) and request and request.max_content_length:
        return (f"the request body is larger than the limit of {request.max_content_length} "
                "bytes")
    if errors:
        return "invalid parameter " + ", ".join(
            f"{name}: {'; '.join(problems)}" for name, problems in errors.items())
    return exc.description or exc.name


def handle_http_exception(exc: HTTPException):
    """Render any HTTP error as JSON."""
    status = exc.code or 500
    errors = parameter_errors(exc)
    extra = {"errors": errors} if errors else {}
    response = jsonify(error_body(status, exc.name, _message_of(exc, errors), **extra))
    response.status_code = status
    for header, value in (exc.get_headers() or []):
        if header.lower() not in {"content-type", "content-length"}:
            response.headers[header] = value
    return response


def handle_integrity_error(exc: IntegrityError):
    """A write that breaks a unique or foreign key constraint is a conflict, not a crash."""
    log.warning("integrity error: %s", exc.orig)
    return jsonify(error_body(409, "Conflict", "the request conflicts with existing data")), 409


def handle_database_unavailable(exc: OperationalError):
    """The database cannot be reached (down, restarting, refusing connections, locked): a 503
    with Retry-After, since the same request may well succeed later."""
    log.error("database unavailable: %s", exc.orig)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the connection is gone: nothing left to roll back)
        log.debug("rollback after a database outage failed", exc_info=True)
    unavailable = ServiceUnavailable("the database is unavailable; try again later")
    unavailable.retry_after = RETRY_AFTER_SECONDS
    return handle_http_exception(unavailable)


def handle_unexpected(exc: Exception):
    """Log the traceback, answer a JSON 500 without internals."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")
    # A failed statement leaves the transaction unusable (PostgreSQL) for whoever comes next.
    db.session.rollback()
    return handle_http_exception(InternalServerError())


def init_app(app: Flask, api: Api) -> None:
    """Route every error of the app (and of flask-smorest) through the JSON renderers.

    Call before `api.init_app`: flask-smorest documents its error responses with ERROR_SCHEMA
    and registers its handler while initialising.
    """
    api.ERROR_SCHEMA = ErrorSchema
    api.handle_http_exception = handle_http_exception  # flask-smorest registers its own
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
