"""Hostile requests, table-driven: surrogates, NUL, undecodable bytes, 100 KB values, repeated
parameters, tampered cursors, odd ids, every method on every route. The application answers
each with a status below 500, and every error with the one JSON error shape."""
from __future__ import annotations

import base64
import json
import re

import pytest

API = "/api/v1"
HUGE = "x" * 100_000
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# Collections and the parameters they take (each gets every hostile value).
COLLECTIONS = {
    "/images": ["dataset", "condition", "type", "sex", "age_min", "days_max", "manufacturer",
                "field_strength", "sort", "page", "per_page", "cursor", "total", "format",
                "with_urls"],
    "/subjects": ["dataset", "condition", "has_type", "sort", "cursor", "format"],
    "/visits": ["dataset", "condition", "age_max", "sort", "cursor", "format"],
    "/stats": ["dataset", "type", "age_min"],
    "/datasets": ["sort", "cursor", "per_page"],
    "/conditions": ["sort", "cursor"],
    "/file_types": ["sort", "cursor"],
    "/scanners": ["dataset", "manufacturer", "cursor"],
    "/load_runs": ["dataset", "status", "cursor"],
}
ITEMS = ["/datasets/{id}", "/subjects/{id}", "/visits/{id}", "/images/{id}",
         "/images/{id}/download"]


def encoded_cursor(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def raw_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Query values, already percent-encoded as they travel on the wire.
VALUES = {
    "surrogate": "%ED%A0%80",
    "nul": "%00",
    "nul inside": "a%00b",
    "invalid utf-8": "%FF%FE",
    "overlong utf-8": "%C0%AF",
    "beyond unicode": "%F4%90%80%80",
    "emoji": "%F0%9F%98%80",
    "100 KB": HUGE,
    "empty": "",
    "sql": "%27%20OR%201%3D1%20--",
    "huge number": "1e400",
    "negative zero": "-0",
    "nan": "NaN",
    "64-bit overflow": str(2**64),
    "cursor: json escape of a surrogate": raw_cursor(b'{"r":"images","s":"id","k":["\\ud800",1]}'),
    "cursor: not utf-8": raw_cursor(b"\xff\xfe{}"),
    "cursor: nested key": encoded_cursor({"r": "images", "s": "id", "k": [[1], {"a": 1}]}),
    "cursor: text id": encoded_cursor({"r": "images", "s": "id", "k": [1, "1"]}),
    "cursor: float key": encoded_cursor({"r": "images", "s": "id", "k": [1e308, 1e308]}),
    "cursor: nulls": encoded_cursor({"r": "images", "s": "id", "k": [None, None]}),
    "cursor: wrong shape": encoded_cursor({"r": "images", "s": "id", "k": [1, 2, 3]}),
    "cursor: 100 KB": raw_cursor(HUGE.encode()),
    "cursor: padding": "====",
}

ITEM_IDS = {"zero": "0", "negative": "-1", "huge": "9" * 30, "nul": "%00",
            "surrogate": "%ED%A0%80", "100 KB": HUGE, "float": "1.5"}


def problems_of(client, headers, method: str, target: str) -> list[str]:
    """Send one request; return what is wrong with the answer (nothing, usually)."""
    response = client.open(API + target, method=method, headers=headers)
    label = f"{method} {target[:80]} -> {response.status_code}"
    if response.status_code >= 500:
        return [label]
    if response.status_code >= 400 and method != "HEAD":
        body = response.get_json(silent=True)
        if (response.mimetype != "application/json" or not isinstance(body, dict)
                or body.get("status") != response.status_code
                or not isinstance(body.get("message"), str) or not body.get("error")):
            return [f"{label}: not the JSON error shape"]
    return []


@pytest.mark.parametrize("path", list(COLLECTIONS))
def test_hostile_values_of_every_parameter_are_never_a_5xx(world, client, auth_headers, path):
    problems = []
    for parameter in COLLECTIONS[path]:
        for value in VALUES.values():
            problems += problems_of(client, auth_headers, "GET", f"{path}?{parameter}={value}")
        problems += problems_of(client, auth_headers, "GET",
                                f"{path}?{parameter}=1&{parameter}=2")
    assert problems == []


def test_hostile_ids_are_never_a_5xx(world, client, auth_headers):
    problems = []
    for template in ITEMS:
        for item_id in ITEM_IDS.values():
            for suffix in ("", "?x=%00"):
                problems += problems_of(client, auth_headers, "GET",
                                        template.replace("{id}", item_id) + suffix)
    assert problems == []


def api_routes(app) -> list[str]:
    """Every route of the API with its placeholders filled with 1."""
    return sorted({re.sub(r"<[^>]+>", "1", rule.rule) for rule in app.url_map.iter_rules()
                   if rule.rule.startswith(API)})


def allowed_methods(app) -> dict[str, set[str]]:
    """The methods each route of the API answers, with its placeholders filled with 1."""
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API):
            allowed.setdefault(re.sub(r"<[^>]+>", "1", rule.rule), set()).update(rule.methods)
    return allowed


def test_every_method_on_every_route_is_clean(app, world, client, auth_headers):
    routes = api_routes(app)
    allowed = allowed_methods(app)
    # the 24 operations, 10 paths of claims, derived files and previews, the OpenAPI document,
    # the docs page and its assets
    assert len(routes) == 37
    problems = []
    for route in routes:
        for method in METHODS:
            problems += problems_of(client, auth_headers, method, route.removeprefix(API))
            if method not in allowed[route]:  # (problems_of checked the others' answers)
                response = client.open(route, method=method, headers=auth_headers)
                if response.status_code != 405:
                    problems.append(f"{method} {route}: {response.status_code}, not 405")
    assert problems == []


@pytest.mark.parametrize("authorization", [
    "Bearer " + HUGE, "Bearer \u00e9\u00e9", "Basic dXNlcjpwYXNz", "Bearer", "bearer  ",
    "Bearer mbid_" + "\t" * 10,
])
def test_hostile_tokens_are_401s(world, client, authorization):
    response = client.get(f"{API}/images", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.get_json()["status"] == 401
