"""The one error the query layer raises: a parameter that names nothing (an unknown dataset,
a bad name filter). It is a 400 that carries its parameter, in the shape of flask-smorest's
abort, so the API and the dashboard answer it as any other bad parameter (app/http/errors.py)."""
from __future__ import annotations

from werkzeug.exceptions import BadRequest


class InvalidParameter(BadRequest):
    """A bad value of the parameter `name` (kept as `parameter`: `name` is the HTTP error's):
    `problem` says why, and `message` (by default the problem) heads the error document
    ({"message", "errors": {name: [problem]}}), held in `data` as flask-smorest's abort does."""

    def __init__(self, name: str, problem: str, message: str | None = None) -> None:
        super().__init__(message or problem)
        self.parameter = name
        self.data = {"message": message or problem, "errors": {name: [problem]}}
