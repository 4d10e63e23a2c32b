"""`flask demo-token`: one demo API token that survives restarts of `make run`.

The token is kept in instance/demo-token (untracked, owner-only permissions) and re-created only
when the file is missing or its key was revoked or removed.
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy import select

from app.access.auth import as_utc, create_api_key, key_for_token, revoke_api_key
from app.extensions import db
from app.models import ApiKey, Scope
from app.models.base import utcnow
from globals import INSTANCE_DIR

DEMO_KEY_NAME = "demo"
DEMO_TOKEN_FILE = INSTANCE_DIR / "demo-token"
OWNER_ONLY = 0o600
DEMO_SCOPES = (Scope.READ, Scope.DOWNLOAD, Scope.WRITE)


def ensure_demo_token(token_file: Path) -> tuple[str, bool]:
    """Return (the demo token, whether it was created now); create it only when the file lacks
    a token of an active, unexpired key named demo (read, write and download on every dataset:
    the demo lets one save cohorts too)."""
    if token_file.is_file():
        token = token_file.read_text().strip()
        key = key_for_token(token) if token else None
        if key is not None and key.name == DEMO_KEY_NAME and (
                key.expires_at is None or as_utc(key.expires_at) > utcnow()):
            return token, False
    existing = db.session.scalar(select(ApiKey).where(ApiKey.name == DEMO_KEY_NAME))
    if existing is not None:  # revoked, expired, or its token lost: replace it
        revoke_api_key(existing)
        db.session.delete(existing)
        db.session.flush()
    _, token = create_api_key(DEMO_KEY_NAME, scopes=DEMO_SCOPES)
    _write_private(token_file, token)
    db.session.commit()
    return token, True


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only (also when it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
    os.chmod(path, OWNER_ONLY)


@click.command("demo-token")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
              default=DEMO_TOKEN_FILE, show_default=True, help="Where the token is kept.")
def demo_token_command(token_file: Path) -> None:
    """Print the demo API token (last line), creating it only when missing or revoked."""
    token, created = ensure_demo_token(token_file)
    click.echo(f"API key {DEMO_KEY_NAME!r} {'created' if created else 'kept'}; its token "
               f"is in {token_file}:")
    click.echo(token)
