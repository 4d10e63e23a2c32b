"""`flask apikey create|list|revoke`: manage the tokens that open the API."""
import click
from sqlalchemy import select

from app.auth import create_api_key
from app.extensions import db
from app.models import ApiKey
from app.models.base import utcnow


@click.group("apikey")
def apikey_group() -> None:
    """Create, list and revoke API keys."""


@apikey_group.command("create")
@click.argument("name")
@click.option("--replace", is_flag=True, help="Revoke and replace an existing key of that name.")
def create(name: str, replace: bool) -> None:
    """Create a key NAME and print its token once, as the last line."""
    existing = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if existing is not None:
        if not replace:
            raise click.ClickException(f"an API key named {name!r} exists (use --replace)")
        db.session.delete(existing)
        db.session.flush()
    _, token = create_api_key(name)
    db.session.commit()
    click.echo(f"API key {name!r} created. Keep the token: it is not stored and is shown once.")
    click.echo(token)


@apikey_group.command("list")
def list_keys() -> None:
    """List keys: name, token prefix, created, revoked."""
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.name)).all()
    if not keys:
        click.echo("no API keys")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        created = f"created {key.created_at:%Y-%m-%d %H:%M}"
        click.echo(f"{key.name}\t{key.token_prefix}...\t{created}\t{state}")


@apikey_group.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke key NAME: its token stops working at once."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise click.ClickException(f"no API key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.commit()
    click.echo(f"API key {name!r} revoked")
