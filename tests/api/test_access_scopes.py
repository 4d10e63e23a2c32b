"""Every route of the OpenAPI document x every scope: 200 with the scope it needs, 403 without
it, 401 without a key or with an expired one. The routes are read from the document at test
time, so a new route is covered as soon as it exists."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.models import Scope
from app.models.base import utcnow
from tests.support.factories import bearer, make_api_key
from tests.support.world import World

API_PREFIX = "/api/v1"
SCOPE_EXTENSION = "x-required-scope"
COUNTS_SCOPE_EXTENSION = "x-counts-scope"
# A path parameter `<kind>_id` is filled with the id of this row of the world.
ROW_FOR_PARAMETER = {"dataset_id": ("datasets", "ALPHA"), "subject_id": ("subjects", "ann"),
                     "visit_id": ("visits", "a0"), "image_id": ("images", "i1")}
# Routes of rows that belong to a key (cohorts) or that the world does not hold (claims,
# derived files; previews need NIfTI files, and the world's are not): the scope lets the request
# through, and the route answers 400, 404, 409 or 422 for want of a row or a body (their own
# tests check the 200s: test_cohorts.py, test_claims.py, test_derived.py).
OWNED_ROUTES = (f"{API_PREFIX}/cohorts", f"{API_PREFIX}/claims", f"{API_PREFIX}/derived")
ANY_COHORT_ID = "1"
ABSENT_ROW_PARAMETERS = {"claim_id", "derived_id"}
ABSENT_ROW_ID = "2147483647"
# What a 403 adds for a counts-only (aggregate) key.
COUNTS_ONLY_HINT = (" (its 'aggregate' scope opens only /api/v1/stats, the counts of the images "
                    "matching the /images filters)")


pytestmark = [pytest.mark.storage("local"), pytest.mark.usefixtures("image_files")]


def protected_operations(client, world: World) -> list[tuple[str, str, str]]:
    """Return (method, concrete path, needed scope, JSON body) for every operation that needs a
    key; the body is the example the document gives for the operation's request, if any. An
    operation of counts that the aggregate scope opens too gives "read|aggregate"."""
    spec = client.get(f"{API_PREFIX}/openapi.json").get_json()
    operations = []
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if operation.get("security") == []:
                continue  # public (the health check)
            default = Scope.READ if method == "get" else Scope.WRITE
            body = operation.get("requestBody", {}).get("content", {}).get(
                "application/json", {}).get("example")
            needed = operation.get(SCOPE_EXTENSION, default.value)
            if COUNTS_SCOPE_EXTENSION in operation:
                needed += f"|{operation[COUNTS_SCOPE_EXTENSION]}"
            operations.append((method.upper(), fill_path(template, world), needed, body))
    return operations


def fill_path(template: str, world: World) -> str:
    """Put real row ids in a path template such as /api/v1/images/{image_id}."""
    def row_id(match: re.Match[str]) -> str:
        parameter = match[1]
        if parameter in ABSENT_ROW_PARAMETERS:
            return ABSENT_ROW_ID
        if parameter == "name":  # an output file's name (PUT /claims/{claim_id}/files/{name})
            return "mask.nii.gz"
        if parameter == "cohort_id":
            return ANY_COHORT_ID
        if parameter == "designation":  # a dataset by name (its participants.tsv)
            return "ALPHA"
        assert parameter in ROW_FOR_PARAMETER, f"add a world row for {{{parameter}}}"
        return str(world.id(*ROW_FOR_PARAMETER[parameter]))

    return re.sub(r"\{(\w+)\}", row_id, template)


def passed_the_scope_check(path: str, status: int) -> bool:
    """Whether a request with the needed scope was answered as it should be."""
    lenient = path.startswith(OWNED_ROUTES) or path.endswith("/preview.png")
    return status not in (401, 403) if lenient else status == 200


def test_the_document_covers_the_routes_that_need_each_scope(client, world):
    needed = {(method, path): scope
              for method, path, scope, _ in protected_operations(client, world)}
    i1 = world.id("images", "i1")
    assert needed[("GET", f"{API_PREFIX}/images/{i1}/download")] == "download"
    assert needed[("GET", f"{API_PREFIX}/audit")] == "admin"
    assert needed[("GET", f"{API_PREFIX}/images")] == "read"
    assert needed[("GET", f"{API_PREFIX}/stats")] == "read|aggregate"
    assert needed[("POST", f"{API_PREFIX}/cohorts")] == "write"
    assert needed[("DELETE", f"{API_PREFIX}/cohorts/{ANY_COHORT_ID}")] == "write"
    assert needed[("GET", f"{API_PREFIX}/cohorts/{ANY_COHORT_ID}/download")] == "download"
    assert len(needed) >= 14


@pytest.mark.parametrize("scope", [scope.value for scope in Scope])
def test_each_route_answers_200_with_its_scope_and_403_without(client, session, world, scope):
    _, token = make_api_key(session, scopes=[scope])
    session.commit()
    wrong = []
    for method, path, needed, body in protected_operations(client, world):
        response = client.open(path, method=method, headers=bearer(token), json=body)
        if scope in needed.split("|"):
            if not passed_the_scope_check(path, response.status_code):
                wrong.append((method, path, response.status_code, response.get_json()))
        elif response.status_code != 403 or response.get_json() != {
                "status": 403, "error": "Forbidden",
                "message": f"this API key lacks the '{needed.split('|')[0]}' scope"
                           + (COUNTS_ONLY_HINT if scope == Scope.AGGREGATE else "")}:
            wrong.append((method, path, response.status_code, response.get_data(as_text=True)))
    assert wrong == []


def test_every_route_is_401_without_a_key_and_with_an_expired_one(client, session, world):
    _, expired = make_api_key(session, name="old", expires_at=utcnow() - timedelta(seconds=1),
                              scopes=list(Scope))
    session.commit()
    wrong = []
    for method, path, _, body in protected_operations(client, world):
        for headers, message in [({}, "missing bearer token"),
                                 (bearer(expired), "API key expired on ")]:
            response = client.open(path, method=method, headers=headers, json=body)
            if (response.status_code != 401 or message not in response.get_json()["message"]
                    or not response.headers["WWW-Authenticate"].startswith("Bearer")):
                wrong.append((method, path, headers != {}, response.status_code))
    assert wrong == []


def test_a_key_with_every_scope_opens_every_route(client, session, world):
    _, token = make_api_key(session, scopes=list(Scope))
    session.commit()
    answers = {(method, path): client.open(path, method=method, headers=bearer(token),
                                           json=body).status_code
               for method, path, _, body in protected_operations(client, world)}
    assert [operation for operation, status in answers.items()
            if not passed_the_scope_check(operation[1], status)] == []


def test_a_key_that_has_not_yet_expired_works(client, session, world):
    _, token = make_api_key(session, expires_at=utcnow() + timedelta(hours=1))
    session.commit()
    assert client.get(f"{API_PREFIX}/datasets", headers=bearer(token)).status_code == 200


def test_urls_with_a_page_need_the_download_scope_too(client, session, world):
    _, reader = make_api_key(session, scopes=["read"])
    _, both = make_api_key(session, scopes=["read", "download"])
    session.commit()
    response = client.get(f"{API_PREFIX}/images?with_urls=true", headers=bearer(reader))
    assert response.status_code == 403
    assert response.get_json()["message"] == "this API key lacks the 'download' scope"
    response = client.get(f"{API_PREFIX}/images?with_urls=true", headers=bearer(both))
    assert response.status_code == 200
    assert all("url" in item for item in response.get_json()["items"])
