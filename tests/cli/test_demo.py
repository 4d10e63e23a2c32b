"""`flask demo-token`: one demo token kept across runs, re-made only when missing or revoked."""
import stat

from sqlalchemy import select

from app.models import ApiKey
from app.models.base import utcnow


def demo_token(app, token_file):
    result = app.test_cli_runner().invoke(args=["demo-token", "--token-file", str(token_file)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_the_token_is_kept_across_runs_owner_only(app, session, tmp_path):
    token_file = tmp_path / "instance" / "demo-token"
    first = demo_token(app, token_file)
    assert first[0] == f"API key 'demo' created; its token is in {token_file}:"
    token = first[-1]
    assert token.startswith("mbid_") and token_file.read_text() == f"{token}\n"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    second = demo_token(app, token_file)
    assert second == [f"API key 'demo' kept; its token is in {token_file}:", token]
    assert len(session.scalars(select(ApiKey)).all()) == 1
    # The demo key may save cohorts: read, write and download on every dataset.
    key = session.scalars(select(ApiKey)).one()
    assert (key.scopes, key.all_datasets) == (["read", "download", "write"], True)


def test_a_revoked_or_missing_token_is_made_anew(app, session, tmp_path):
    token_file = tmp_path / "demo-token"
    token = demo_token(app, token_file)[-1]
    session.scalar(select(ApiKey).where(ApiKey.name == "demo")).revoked_at = utcnow()
    session.commit()
    renewed = demo_token(app, token_file)
    assert renewed[0].startswith("API key 'demo' created") and renewed[-1] != token
    token_file.unlink()
    again = demo_token(app, token_file)
    assert again[-1] not in (token, renewed[-1])
    assert [key.name for key in session.scalars(select(ApiKey))] == ["demo"]
    headers = {"Authorization": f"Bearer {again[-1]}"}
    assert app.test_client().get("/api/v1/conditions", headers=headers).status_code == 200
