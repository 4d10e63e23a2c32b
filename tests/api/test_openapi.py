"""The OpenAPI document: valid, covering every route; no request built from it yields a 5xx."""
import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

API_PREFIX = "/api/v1"
# The document and its interactive page describe the API; they are not operations of it.
DOC_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/<path:filename>",
              "/api/v1/docs/assets/<path:filename>"}


def spec_of(client) -> dict:
    response = client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_spec_is_a_valid_openapi_3_document(client):
    spec = spec_of(client)
    assert spec["openapi"] == "3.0.3"
    validate(spec)


def test_every_api_route_is_in_the_spec_with_its_methods(app, client):
    spec_paths = spec_of(client)["paths"]
    routes = [rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith(API_PREFIX) and rule.rule not in DOC_ROUTES]
    # health, the download, the audit log, 13 query routes (with load runs), 6 cohort routes
    # (with the BIDS zip), 3 QC routes, 5 claim routes, 3 derived-file routes, 2 previews, the
    # measures and 4 participant tables
    assert len(routes) == 40
    for rule in routes:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in spec_paths, rule.rule
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert {method.lower() for method in methods} <= set(spec_paths[path]), rule.rule


def test_collections_document_their_envelope_csv_and_errors(client):
    spec = spec_of(client)
    images = spec["paths"]["/api/v1/images"]["get"]
    assert set(images["responses"]["200"]["content"]) == {
        "application/json", "text/csv", "application/vnd.apache.parquet", "text/uri-list"}
    assert images["responses"]["400"] == {"$ref": "#/components/responses/BAD_REQUEST"}
    envelope = spec["components"]["schemas"]["ImagePage"]
    assert list(envelope["properties"]) == ["items", "total", "page", "per_page", "next_cursor"]
    error = spec["components"]["schemas"]["Error"]
    assert list(error["properties"]) == ["status", "error", "message", "errors"]
    assert [p["name"] for p in images["parameters"]] == [
        "page", "per_page", "sort", "cursor", "total", "format", "dataset", "condition", "type",
        "sex", "age_min", "age_max", "days_min", "days_max", "field_strength", "manufacturer",
        "has_marks", "view", "laterality", "meta.{Field}", "qc", "drift", "name", "measure",
        "measure_window", "measures", "with_urls"]


# Values that are wrong for some parameter, plausible for others, or hostile to a database.
AWKWARD_TEXT = ["", " ", "-", "0", "-1", "1.5", "1e400", "nan", "inf", "-inf", "true", "null",
                str(2**63), str(-(2**63) - 1), str(2**64), "\x00", "a\x00b", "%", "'", "\"",
                "' OR 1=1 --", "é", "\U0001f600", "x" * 2000, "T1", "female", "ALPHA", "HC",
                "-id", "id", "csv", "json", "eyJyIjoiaW1hZ2VzIn0", "=="]


def values_for(parameter: dict) -> st.SearchStrategy:
    """Return a strategy of query values for a parameter: mostly wrong, sometimes right."""
    schema = parameter.get("schema", {})
    item_schema = schema.get("items", schema)
    right = (st.sampled_from(item_schema["enum"]) if "enum" in item_schema
             else st.integers(0, 100).map(str))
    one = st.one_of(
        right,
        st.sampled_from(AWKWARD_TEXT),
        st.text(max_size=12),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )
    return st.lists(one, min_size=1, max_size=3)


def requests_from(spec: dict) -> st.SearchStrategy:
    """Return a strategy of (path, query) pairs over every GET operation of the spec."""
    strategies = []
    for template, operations in spec["paths"].items():
        if "get" not in operations:
            continue  # processing claims: POST and PUT only
        parameters = [p for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        path_ids = st.one_of(st.integers(-5, 2**70).map(str), st.sampled_from(AWKWARD_TEXT))
        query = st.fixed_dictionaries({}, optional={
            p["name"]: values_for(p) for p in parameters})
        extra = st.dictionaries(st.sampled_from(["x", "page", "type", "with_urls", "%00"]),
                                st.lists(st.sampled_from(AWKWARD_TEXT), min_size=1, max_size=2),
                                max_size=1)
        strategies.append(st.tuples(st.just(template), path_ids, query, extra))
    return st.one_of(strategies)


def test_no_request_built_from_the_spec_yields_a_5xx(client, auth_headers, world):
    spec = spec_of(client)

    @settings(max_examples=300, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests_from(spec))
    def check(request):
        template, path_id, query, extra = request
        path = re.sub(r"\{[^}]+\}", quote(path_id, safe=""), template)
        response = client.get(path, query_string={**query, **extra}, headers=auth_headers)
        assert response.status_code < 500, (path, query, extra, response.get_data(as_text=True))
        if response.status_code >= 400:
            body = response.get_json()
            assert body["status"] == response.status_code
            assert isinstance(body["message"], str) and body["error"]

    check()


def test_the_document_states_what_the_server_enforces(client):
    spec = spec_of(client)
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/images"]["get"]["parameters"]}
    assert "Cannot be combined with cursor" in parameters["page"]["description"]
    assert "Cannot be combined with page" in " ".join(parameters["cursor"]["description"].split())
    for name in ("dataset", "condition"):
        assert "an unknown one is a 400 that lists the known ones" in (
            parameters[name]["description"])
    stats = {p["name"]: p for p in spec["paths"]["/api/v1/stats"]["get"]["parameters"]}
    assert stats["dataset"]["description"] == parameters["dataset"]["description"]
    # Single-valued parameters are not arrays; repeatable ones are.
    assert parameters["sex"]["schema"]["type"] == "string"
    assert parameters["type"]["schema"]["type"] == "array"
    health = spec["paths"]["/api/v1/health"]["get"]
    assert set(health["responses"]) >= {"200", "503"} and health["security"] == []
