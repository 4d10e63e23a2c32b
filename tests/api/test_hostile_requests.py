"""Hostile requests, table-driven: surrogates, NUL, undecodable bytes, 100 KB values, repeated
parameters, tampered cursors, odd ids, every method on every route; JSON bodies nested deep or
holding huge numbers or lone surrogates, bodies past MAX_CONTENT_LENGTH, a Host header aimed
at redirects, CSV formulas after a separator. The application answers each with a status below
500, and every error with the one JSON error shape. (Previews of unreadable files:
tests/api/test_previews_api.py; oversized claim outputs: tests/api/test_claim_uploads.py.)"""
from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest

from app.models import Scope
from tests.support.factories import bearer, make_api_key, make_dataset, make_subject

API = "/api/v1"
HUGE = "x" * 100_000
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# Collections and the parameters they take (each gets every hostile value).
COLLECTIONS = {
    "/images": ["dataset", "condition", "type", "sex", "age_min", "days_max", "manufacturer",
                "field_strength", "sort", "page", "per_page", "cursor", "total", "format",
                "with_urls", "measure", "measure_window", "measures"],
    "/subjects": ["dataset", "condition", "has_type", "sort", "cursor", "format", "measure"],
    "/visits": ["dataset", "condition", "age_max", "sort", "cursor", "format", "measures"],
    "/stats": ["dataset", "type", "age_min", "measure", "distribution"],
    "/datasets": ["sort", "cursor", "per_page"],
    "/conditions": ["sort", "cursor"],
    "/measures": ["sort", "cursor"],
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
    # the docs page and its assets, the measures, the 4 participant tables (dataset or
    # cohort, tsv or json) and a cohort's BIDS zip
    assert len(routes) == 43
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


# The JSON write routes, each with a body it would accept, and the hostile bodies that once
# made them a 500 (RecursionError, Python's 4,300-digit integer limit, a lone surrogate).
WRITE_ROUTES = [("POST", "/claims"), ("POST", "/claims/1/renew"), ("POST", "/claims/1/complete"),
                ("POST", "/claims/1/fail"), ("POST", "/cohorts"), ("PUT", "/images/1/qc")]
HOSTILE_BODIES = {  # body, what the message says, the parameter the error names
    "nested 1,000 deep": ('{"a":' * 1000 + "1" + "}" * 1000, "nested deeper than 64 levels",
                          "json"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels",
                            "json"),
    "nested 65 deep": ('{"name": "c", "query": ' + "[" * 64 + "]" * 64 + "}",
                       "nested deeper than 64 levels", "json"),
    "integer of 4,300 digits": ('{"task": "t", "worker": "w", "limit": ' + "1" * 4300 + "}",
                                "more than 64 digits", "json"),
    "integer of 5,000 digits in a list": ("[-" + "9" * 5000 + "]", "more than 64 digits",
                                          "json"),
    "a float too large": ('{"name": "c", "query": {"age_min": 1e400}}', "1e400 is too large",
                          "json"),
    "NaN": ('{"lease_token": "t", "lease_seconds": NaN}', "NaN is not a JSON number", "json"),
    "-Infinity": ('{"lease_token": "t", "error": -Infinity}', "-Infinity is not a JSON number",
                  "json"),
    "lone surrogate": ('{"name": "c", "query": {"meta.Manufacturer": "\\ud800"}}',
                       "query: a string holds a lone surrogate", "query"),
    "lone low surrogate in a key": ('{"\\udfff": 1}', "json: a string holds a lone surrogate",
                                    "json"),
}


@pytest.fixture
def all_scopes_headers(session) -> dict[str, str]:
    """A key with every scope, so that each write route reads its body."""
    _, token = make_api_key(session, scopes=list(Scope))
    session.commit()
    return {**bearer(token), "X-Lease-Token": "not-a-token"}


@pytest.mark.parametrize("body", list(HOSTILE_BODIES), ids=list(HOSTILE_BODIES))
def test_hostile_json_bodies_are_400s_naming_the_problem(world, client, all_scopes_headers, body):
    text, problem, name = HOSTILE_BODIES[body]
    for method, path in WRITE_ROUTES:
        response = client.open(API + path, method=method, data=text, headers=all_scopes_headers,
                               content_type="application/json")
        assert response.status_code == 400, (method, path, response.get_data(as_text=True))
        document = response.get_json()
        assert document["status"] == 400
        assert problem in document["message"]
        assert list(document["errors"]) == [name]


def test_a_body_past_the_limit_is_a_413_before_it_is_read(app, world, client,
                                                          all_scopes_headers):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 10 * 1024 * 1024
    body = b'{"name": "' + b"x" * limit + b'"}'
    for method, path in WRITE_ROUTES:
        response = client.open(API + path, method=method, data=body, headers=all_scopes_headers,
                               content_type="application/json")
        assert response.status_code == 413, (method, path)
        assert response.get_json() == {
            "status": 413, "error": "Request Entity Too Large",
            "message": f"the request body is larger than the limit of {limit} bytes"}


@pytest.mark.parametrize("value", [10**20, 10**400, -(10**400), 2**63, 1e308])
def test_a_cursor_with_a_huge_number_for_a_float_sort_field(world, client, auth_headers, value):
    cursor = encoded_cursor({"r": "scanners", "s": "field_strength", "k": [value, 1]})
    response = client.get(f"{API}/scanners?sort=field_strength&cursor={cursor}",
                          headers=auth_headers)
    if value == 10**400 or value == -(10**400):
        assert response.status_code == 400
        assert list(response.get_json()["errors"]) == ["cursor"]
    else:  # a big float is a valid position: past every row
        assert response.status_code == 200
        assert response.get_json()["items"] == []


def test_a_cursor_nested_deep_or_holding_a_huge_integer_is_a_400(world, client, auth_headers):
    for raw in (b"[" * 5000 + b"]" * 5000, b'{"r":"images","s":"id","k":[1,' + b"9" * 5000 + b"]}"):
        response = client.get(f"{API}/images?cursor={raw_cursor(raw)}", headers=auth_headers)
        assert response.status_code == 400
        assert list(response.get_json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("target, name", [
    ("/images?manufacturer=%ED%A0%80", "manufacturer"),
    ("/images?dataset=a%FFb", "dataset"),
    ("/images?%ED%A0%80=1", "\ufffd\ufffd\ufffd"),
    ("/images/%ED%A0%80", "path"),
    ("/subjects/1%ED%B0%80", "path"),
])
def test_surrogates_and_stray_bytes_in_query_or_path_are_400s(world, client, auth_headers,
                                                              target, name):
    response = client.get(API + target, headers=auth_headers)
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == [name]


def test_a_surrogate_in_a_dashboard_path_is_a_400(client):
    assert client.get("/dashboard/%ED%A0%80").status_code == 400


@pytest.mark.parametrize("path, status, location", [
    ("/dashboard", 308, "/dashboard/"),  # Werkzeug's slash redirect
    ("/dashboard/", 302, "/dashboard/login"),  # the dashboard's own, to its sign-in page
])
def test_redirects_never_point_at_the_host_header(client, path, status, location):
    response = client.get(path, headers={"Host": "evil.example"})
    assert (response.status_code, response.headers["Location"]) == (status, location)


def test_csv_formulas_after_a_separator_are_neutralised(session, client, auth_headers):
    dataset = make_dataset(session, designation="CSVSEP")
    for external_id in ("a;=1+1", "b,+2", "c|@SUM(A1)", "d\t-3", "e; =1", "=x;=y"):
        make_subject(session, dataset=dataset, external_id=external_id)
    session.commit()
    response = client.get(f"{API}/subjects?format=csv&sort=id", headers=auth_headers)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [row["external_id"] for row in rows] == [
        "a;'=1+1", "b,'+2", "c|'@SUM(A1)", "d\t'-3", "e;' =1", "'=x;'=y"]
