"""A page costs a fixed number of SQL statements, however many rows it holds (no N+1)."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db


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
    # + one look-up per designation filter
    ("/images", {"dataset": ["ALPHA", "BETA"], "condition": ["AD", "HC"], "type": "T1"}, 5),
    ("/subjects", {}, 3),
    ("/subjects", {"has_type": ["T1", "DWI"], "condition": "HC"}, 4),
    ("/visits", {}, 3),
    # + three grouped counts
    ("/datasets", {}, 6),
    # total=false: no count
    ("/images", {"total": "false"}, 2),
    ("/images", {"dataset": "ALPHA", "condition": "AD", "total": "false"}, 4),
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
    assert len(statements) == 5  # token, totals, groups, sex, age


def test_csv_fetches_in_batches_not_per_row(app, world, get):
    with counted_statements(app) as statements:
        assert get("/images", format="csv").status_code == 200
    # token, the streamed select, then the audit entry: its datasets, the entry, its links
    assert len(statements) == 5
