"""What a request no longer pays for keeps its behaviour: a pooled connection the database
dropped is replaced (no pre-ping per request), a page's read-only transaction ends at once
while one that wrote or locks is left to its route, and a revoked key is refused at once."""
from contextlib import contextmanager

import psycopg
from sqlalchemy import event, func, select

from app.access.auth import revoke_api_key
from app.extensions import IDLE_CHECK_SECONDS, RETURNED_AT, db, end_read_only_transaction
from app.models import ApiKey, Claim
from tests.support.factories import bearer, make_api_key

PAGE = {"dataset": "BETA", "condition": ["HC", "AD"], "type": "T1", "total": "false",
        "per_page": 1}


@contextmanager
def pooled_connections(app):
    """Collect the (DBAPI connection, pool record) pairs returned to the app's pool."""
    returned = []
    with app.app_context():
        pool = db.engine.pool

    def keep(dbapi_connection, record):
        returned.append((dbapi_connection, record))

    event.listen(pool, "checkin", keep)
    try:
        yield returned
    finally:
        event.remove(pool, "checkin", keep)


def drop(app, connections):
    """Drop pooled connections as the database would (a restart, an idle timeout): on
    PostgreSQL the server ends their sessions; SQLite has no server, so they are closed."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        pids = [dbapi_connection.info.backend_pid for dbapi_connection, _ in connections]
        # From a connection of its own, not the pool's (which would end itself).
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as other:
            for pid in pids:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    else:
        for dbapi_connection, _ in connections:
            dbapi_connection.close()


@contextmanager
def database_errors(app):
    """Collect the errors the app's statements raise inside the block."""
    errors = []
    with app.app_context():
        engine = db.engine

    def keep(context):
        errors.append(context)

    event.listen(engine, "handle_error", keep)
    try:
        yield errors
    finally:
        event.remove(engine, "handle_error", keep)


def test_a_dropped_connection_is_survived_by_the_next_request(app, world, get):
    db.session.remove()  # the test's own connection back to the pool, as a server's is
    with pooled_connections(app) as returned:
        first = get("/images", **PAGE)
        assert first.status_code == 200
    drop(app, returned)
    # Used a moment ago, so handed out unchecked: the key check's statement fails, the pool
    # is invalidated and the statement runs again on a new connection.
    with database_errors(app) as errors:
        again = get("/images", **PAGE)
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert len(errors) == 1 and errors[0].is_disconnect


def test_an_idle_connection_is_checked_before_use(app, world, get):
    db.session.remove()
    with pooled_connections(app) as returned:
        first = get("/images", **PAGE)
        assert first.status_code == 200
    for _, record in returned:  # as if they had waited in the pool
        record.info[RETURNED_AT] -= IDLE_CHECK_SECONDS + 1
    drop(app, returned)
    with database_errors(app) as errors:
        again = get("/images", **PAGE)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert errors == []  # replaced at checkout: no statement failed


def test_a_revoked_key_is_refused_at_once(app, session, world, client):
    key, token = make_api_key(session)
    session.commit()
    assert client.get("/api/v1/images", headers=bearer(token), query_string=PAGE).status_code \
        == 200
    revoke_api_key(key)
    session.commit()
    refused = client.get("/api/v1/images", headers=bearer(token), query_string=PAGE)
    assert refused.status_code == 401
    assert refused.get_json()["message"] == "invalid or revoked API key"


def test_only_a_transaction_that_read_is_ended_early(app, session, world):
    with app.test_request_context("/api/v1/images"):
        db.session.execute(select(func.count()).select_from(ApiKey))
        end_read_only_transaction()
        assert not db.session().in_transaction()
        # A write (the key and its audit entry, flushed): left to the route.
        make_api_key(session, name="written")
        end_read_only_transaction()
        assert db.session().in_transaction()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).where(ApiKey.name == "written")) == 0
        db.session.rollback()
        # A row lock (PostgreSQL; SQLite writes no FOR UPDATE and has no row locks).
        db.session.execute(select(Claim.id).with_for_update(skip_locked=True))
        end_read_only_transaction()
        assert db.session().in_transaction() is (db.engine.dialect.name == "postgresql")
        db.session.rollback()
