"""`flask apikey create|list|revoke|grant|revoke-grant`: the tokens that open the API.

Every change is written to the audit log (`flask audit`).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select

from app.access.auth import as_utc, create_api_key, grant_dataset, revoke_api_key, revoke_grant
from app.cli.arguments import dataset_argument
from app.cli.errors import BadInput
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from app.models import DEFAULT_SCOPES, ApiKey, Cohort, Dataset, Scope
from app.models.base import utcnow

DURATION = re.compile(r"(\d+)([hdw])")
DURATION_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime) -> datetime:
    """Return the expiry that `text` means: a duration from `now` (90d, 12h, 2w) or an
    ISO 8601 date or time (UTC unless it says otherwise)."""
    duration = DURATION.fullmatch(text.strip())
    if duration:
        return now + timedelta(**{DURATION_UNITS[duration[2]]: int(duration[1])})
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise BadInput(f"--expires {text!r}: give a duration such as 90d, 12h or 2w, or a "
                       "date such as 2027-06-30") from None


def _key_named(name: str) -> ApiKey:
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise BadInput(f"no API key named {name!r}")
    return key


def _datasets_named(designations: list[str], option: str) -> list[Dataset]:
    found = {dataset.designation: dataset for dataset in db.session.scalars(
        select(Dataset).where(Dataset.designation.in_(designations)))}
    unknown = [designation for designation in designations if designation not in found]
    if unknown:
        raise BadInput(f"{option}: unknown dataset {', '.join(unknown)} (see /api/v1/datasets)")
    return [found[designation] for designation in designations]


def describe_access(key: ApiKey) -> str:
    """Say what a key may do and see: 'read, download on all datasets, expires never'."""
    if key.all_datasets:
        where = "all datasets"
    else:
        names = sorted(grant.dataset.designation for grant in key.grants)
        where = "datasets " + ", ".join(names) if names else "no dataset"
    expiry = f"{as_utc(key.expires_at):%Y-%m-%d %H:%M} UTC" if key.expires_at else "never"
    return f"{', '.join(key.scopes) or 'no scope'} on {where}, expires {expiry}"


@click.group("apikey")
def apikey_group() -> None:
    """Create, list and revoke API keys; grant and revoke datasets."""


@apikey_group.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice([s.value for s in Scope]),
              help="A scope of the key; repeat for several (default: read and download). "
                   "aggregate alone: counts only (/stats and the dashboard's counts, small "
                   "counts shown as <5).")
@click.option("--datasets", help="Comma-separated designations: the only datasets it may see.")
@click.option("--all-datasets", is_flag=True,
              help="It may see every dataset, present and future (the default).")
@click.option("--expires", help="Expiry: a duration (90d, 12h, 2w) or a date (default: never).")
@click.option("--replace", is_flag=True,
              help="Revoke and replace an existing key of that name (a new key: the old one's "
                   "cohorts are not handed over).")
def create(name: str, scopes: tuple[str, ...], datasets: str | None, all_datasets: bool,
           expires: str | None, replace: bool) -> None:
    """Create a key NAME and print its token once, as the last line.

    With no option, the key reads and downloads every dataset, and never expires. With
    --replace, the old key's cohorts stay in the database under the name, but the new key (a
    new holder, maybe) does not see them.
    """
    if datasets is not None and all_datasets:
        raise BadInput("--datasets and --all-datasets exclude each other")
    granted = None
    if datasets is not None:
        designations = [part.strip() for part in datasets.split(",") if part.strip()]
        if not designations:
            raise BadInput("--datasets: give at least one dataset designation")
        granted = _datasets_named(designations, "--datasets")
    now = utcnow()
    expires_at = parse_expiry(expires, now) if expires else None
    if expires_at is not None and expires_at <= now:
        raise BadInput(f"--expires {expires!r}: {expires_at:%Y-%m-%d %H:%M} UTC is not in the "
                       "future (a key that has already expired would not work)")
    existing = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    kept_cohorts = 0
    if existing is not None:
        if not replace:
            raise BadInput(f"an API key named {name!r} exists (use --replace)")
        kept_cohorts = db.session.scalar(
            select(func.count()).select_from(Cohort).where(Cohort.key_name == name)) or 0
        revoke_api_key(existing)
        db.session.delete(existing)
        db.session.flush()
    key, token = create_api_key(name, scopes=scopes or DEFAULT_SCOPES, datasets=granted,
                                expires_at=expires_at)
    db.session.commit()
    defaults = " (the default: no --scope or dataset option)" if not (
        scopes or datasets or all_datasets) else ""
    click.echo(f"API key {name!r} created: {describe_access(key)}{defaults}.")
    if kept_cohorts:
        click.echo(f"The replaced key's {kept_cohorts} cohort(s) are kept but not handed over: "
                   "the new key does not see them.")
    click.echo("Keep the token: it is not stored and is shown once.")
    click.echo(token)


def _state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at:
        return f"revoked {as_utc(key.revoked_at):%Y-%m-%d %H:%M}"
    if key.expires_at and as_utc(key.expires_at) <= now:
        return "expired"
    return "active"


def _moment(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


@apikey_group.command("list")
@json_option
def list_keys(as_json: bool) -> None:
    """List keys: name, token prefix, scopes and datasets, expiry, last use, state."""
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.name)).all()
    now = utcnow()
    if as_json:
        echo_json([{"name": key.name, "token_prefix": key.token_prefix,
                    "scopes": list(key.scopes), "all_datasets": key.all_datasets,
                    "datasets": sorted(grant.dataset.designation for grant in key.grants),
                    "created_at": _moment(key.created_at),
                    "expires_at": _moment(key.expires_at),
                    "last_used_at": _moment(key.last_used_at),
                    "state": _state(key, now).split(" ")[0]} for key in keys])
        return
    if not keys:
        click.echo("no API keys")
    for key in keys:
        used = (f"last used {as_utc(key.last_used_at):%Y-%m-%d %H:%M}" if key.last_used_at
                else "never used")
        created = f"created {as_utc(key.created_at):%Y-%m-%d %H:%M}"
        click.echo("\t".join([key.name, f"{key.token_prefix}...", describe_access(key), created,
                              used, _state(key, now)]))


@apikey_group.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke key NAME: its token stops working at once."""
    revoke_api_key(_key_named(name))
    db.session.commit()
    click.echo(f"API key {name!r} revoked")


@apikey_group.command("grant")
@click.argument("name")
@dataset_argument()
def grant(name: str, dataset: str) -> None:
    """Let key NAME see dataset DATASET (a designation)."""
    key = _key_named(name)
    if not grant_dataset(key, _datasets_named([dataset], "DATASET")[0]):
        reason = "every dataset" if key.all_datasets else dataset
        click.echo(f"API key {name!r} already sees {reason}: nothing changed")
        return
    db.session.commit()
    click.echo(f"API key {name!r} now sees {dataset}: {describe_access(key)}")


@apikey_group.command("revoke-grant")
@click.argument("name")
@dataset_argument()
def revoke_grant_command(name: str, dataset: str) -> None:
    """Stop key NAME seeing dataset DATASET."""
    key = _key_named(name)
    if key.all_datasets:
        raise BadInput(f"API key {name!r} sees every dataset, not grants: create a key "
                       "with --datasets to limit it (flask apikey create NAME --replace ...)")
    if not revoke_grant(key, _datasets_named([dataset], "DATASET")[0]):
        raise BadInput(f"API key {name!r} has no grant of {dataset}")
    db.session.commit()
    click.echo(f"API key {name!r} no longer sees {dataset}: {describe_access(key)}")


