"""API keys and their grants: the upgrade keeps old keys working; grants go with their key."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app.access.auth import create_api_key
from app.extensions import db
from app.models import ApiKey, ApiKeyGrant
from tests.support.apps import make_app
from tests.support.factories import bearer, make_dataset

BEFORE_ACCESS_CONTROL = "c71968d5020d"


def test_keys_made_before_scopes_keep_read_and_download_on_every_dataset(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision=BEFORE_ACCESS_CONTROL)
        _, token = _old_key(app)
        upgrade()
        key = db.session.scalar(select(ApiKey).where(ApiKey.name == "legacy"))
        assert (key.scopes, key.all_datasets, key.expires_at) == (["read", "download"], True,
                                                                  None)
        response = app.test_client().get("/api/v1/datasets", headers=bearer(token))
        assert response.status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_a_downgrade_and_upgrade_never_widen_a_key(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        create_api_key("reader", scopes=["read"], datasets=[make_dataset(db.session)])
        db.session.commit()
        downgrade(revision=BEFORE_ACCESS_CONTROL)
        upgrade()
        key = db.session.scalar(select(ApiKey).where(ApiKey.name == "reader"))
        assert (key.scopes, key.all_datasets, key.grants) == (["read"], False, [])
        db.session.remove()
        db.engine.dispose()


def _old_key(app) -> tuple[str, str]:
    """Insert a key the way the schema before scopes stored it."""
    from app.access.auth import hash_token, new_token

    token = new_token()
    db.session.execute(text(
        "INSERT INTO api_key (name, token_hash, token_prefix, created_at, updated_at) "
        "VALUES ('legacy', :hash, :prefix, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
        {"hash": hash_token(token), "prefix": token[:12]})
    db.session.commit()
    return "legacy", token


def test_deleting_a_key_deletes_its_grants(session):
    dataset = make_dataset(session)
    key, _ = create_api_key("temporary", datasets=[dataset])
    session.commit()
    assert session.scalar(select(func.count()).select_from(ApiKeyGrant)) == 1
    session.delete(key)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ApiKeyGrant)) == 0

