"""A page costs a fixed number of SQL statements, however many rows it holds (no N+1)."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.support.factories import bearer, make_api_key


@pytest.fixture(autouse=True)
def key_already_used(get):
    """Make a first request: the first of a minute also notes the key's last use (one UPDATE)."""
    assert get("/conditions").status_code == 200


@contextmanager
def counted_statements(app):
    """Count the statements the app's engine runs inside the block."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize(("path", "params", "rows"), [
    # token check, count, page
    ("/images", {}, 3),
    # the designations of the dataset and condition filters come with the token check
    ("/images", {"dataset": ["ALPHA", "BETA"], "condition": ["AD", "HC"], "type": "T1"}, 3),
    ("/subjects", {}, 3),
    ("/subjects", {"has_type": ["T1", "DWI"], "condition": "HC"}, 3),
    ("/visits", {}, 3),
    # + three grouped counts
    ("/datasets", {}, 6),
    # total=false: no count
    ("/images", {"total": "false"}, 2),
    ("/images", {"dataset": "ALPHA", "condition": "AD", "total": "false"}, 2),
])
def test_page_cost_does_not_grow_with_per_page(app, world, get, path, params, rows):
    counts = []
    for per_page in (1, 8):
        with counted_statements(app) as statements:
            assert get(path, per_page=per_page, **params).status_code == 200
        counts.append(len(statements))
    assert counts == [rows, rows]


def test_detail_and_stats_cost_a_fixed_number_of_statements(app, world, get):
    ann = world.id("subjects", "ann")  # read before counting: it reloads the expired row
    with counted_statements(app) as statements:
        assert get(f"/subjects/{ann}").status_code == 200
    assert len(statements) == 4  # token, subject, visits, images
    with counted_statements(app) as statements:
        assert get("/stats").status_code == 200
    with app.app_context():
        one_pass = db.engine.dialect.name == "postgresql"
    # token, then totals, groups, sex, age: in one statement on PostgreSQL (GROUPING SETS)
    assert len(statements) == (2 if one_pass else 5)


def test_csv_fetches_in_batches_not_per_row(app, world, get):
    with counted_statements(app) as statements:
        assert get("/images", format="csv").status_code == 200
    # token, the streamed select, then the audit entry: its datasets, the entry, its links
    assert len(statements) == 5


CURSOR_PAGE = {"dataset": "BETA", "condition": ["HC", "AD"], "type": "T1", "sex": "female",
               "total": "false", "per_page": 1}


def test_a_cursor_page_costs_two_statements(app, world, get):
    """The bench's cursor page: filters by designation, no total, the page after the first."""
    first = get("/images", **CURSOR_PAGE).get_json()
    assert world.names("images", [item["id"] for item in first["items"]]) == ["i6"]
    with counted_statements(app) as statements:
        response = get("/images", cursor=first["next_cursor"], **CURSOR_PAGE)
    assert [item["id"] for item in response.get_json()["items"]] == [world.id("images", "i8")]
    # The token check (with the ids of BETA, HC and AD), then the page.
    assert len(statements) == 2


def test_a_restricted_key_costs_no_statement_more(app, session, world, client):
    """Its grants come with the key; the dataset filter's ids are checked against them."""
    _, token = make_api_key(session, datasets=[world.datasets["BETA"]])
    session.commit()
    headers = bearer(token)
    assert client.get("/api/v1/conditions", headers=headers).status_code == 200
    with counted_statements(app) as statements:
        response = client.get("/api/v1/images", headers=headers,
                              query_string={**CURSOR_PAGE, "per_page": 8})
    assert world.names("images", [item["id"] for item in response.get_json()["items"]]) == [
        "i6", "i8"]
    assert len(statements) == 2  # token with its grants and the designations, page
    hidden = client.get("/api/v1/images", headers=headers,
                        query_string={**CURSOR_PAGE, "dataset": "ALPHA"})
    assert hidden.status_code == 400
    assert hidden.get_json()["errors"] == {"dataset": ["unknown dataset: ALPHA (known: BETA)"]}
