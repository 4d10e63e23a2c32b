"""Typed exceptions: one per kind of API answer, each carrying the API's own message."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """The API answered with an error: `status`, its `message` and, for a bad request, the
    problems of each parameter (`errors`, by parameter name)."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors or {}


class BadRequest(ApiError):
    """400: a parameter is wrong (see `errors`)."""


class Unauthorized(ApiError):
    """401: the token is missing, unknown, revoked or expired."""


class Forbidden(ApiError):
    """403: the key lacks the scope the route needs."""


class NotFound(ApiError):
    """404: no such row, or one the key may not see."""


class RateLimited(ApiError):
    """429: too many requests, even after waiting as told."""


class ServerError(ApiError):
    """5xx: the server or its storage failed, even after retrying."""


class ChecksumMismatch(Exception):
    """Downloaded files whose SHA-256 is not the manifest's (they were deleted)."""

    def __init__(self, paths: list[str]):
        super().__init__(f"{len(paths)} file(s) failed checksum verification: "
                         + ", ".join(paths[:5]))
        self.paths = paths


_BY_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden,
                                         404: NotFound, 429: RateLimited}


def error_for(status: int, body: Any) -> ApiError:
    """Return the exception for an error answer (`body`: the API's JSON error, if any)."""
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or f"HTTP {status}")
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(status, message, body.get("errors"))
