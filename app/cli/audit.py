"""`flask audit`: print the whole audit log (every dataset: a command is not restricted by a
key's grants), oldest entry first, one tab-separated line per entry."""
from __future__ import annotations

import json
from datetime import datetime

import click
from sqlalchemy import select

from app.access.auth import as_utc
from app.cli.arguments import DatasetAliasCommand, dataset_argument
from app.cli.errors import BadInput
from app.cli.reporting import echo_json, json_option
from app.extensions import db
from app.models import AuditAction, AuditEvent, AuditEventDataset, Dataset


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise BadInput(f"{option} {text!r}: give an ISO 8601 date or time") from None


def format_event(event: AuditEvent) -> str:
    """Return one entry as a line: time, key, action, datasets, then what it concerned."""
    parts = [f"{as_utc(event.occurred_at):%Y-%m-%d %H:%M:%S}", event.key_name,
             event.action.value,
             ",".join(dataset.designation for dataset in event.datasets) or "-"]
    if event.image_ids is not None:
        parts.append("images " + ",".join(str(image_id) for image_id in event.image_ids))
    if event.row_count is not None:
        parts.append(f"{event.row_count} rows")
    if event.details:
        parts.append(json.dumps(event.details, sort_keys=True))
    return "\t".join(parts)


@click.command("audit", cls=DatasetAliasCommand)
@dataset_argument(required=False)
@click.option("--key", help="Only entries of this API key.")
@click.option("--action", "actions", multiple=True,
              type=click.Choice([action.value for action in AuditAction]),
              help="Only this action; repeat for several.")
@click.option("--since", help="Only entries at or after this ISO 8601 time (UTC by default).")
@click.option("--until", help="Only entries at or before this ISO 8601 time (UTC by default).")
@json_option
def audit_command(dataset: str | None, key: str | None, actions: tuple[str, ...],
                  since: str | None, until: str | None, as_json: bool) -> None:
    """Print the audit log (only the entries touching DATASET, if given): downloads, issued
    download URLs, exports, previews, writes (cohorts, QC reviews, claims), dataset
    registrations and deletions, and key changes."""
    statement = select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id)
    if key is not None:
        statement = statement.where(AuditEvent.key_name == key)
    if dataset is not None:
        dataset_id = db.session.scalar(select(Dataset.id).where(Dataset.designation == dataset))
        statement = statement.where(AuditEvent.id.in_(
            select(AuditEventDataset.audit_event_id)
            .where(AuditEventDataset.dataset_id == dataset_id)))
    if actions:
        statement = statement.where(AuditEvent.action.in_(actions))
    if (start := _moment(since, "--since")) is not None:
        statement = statement.where(AuditEvent.occurred_at >= start)
    if (end := _moment(until, "--until")) is not None:
        statement = statement.where(AuditEvent.occurred_at <= end)
    events = db.session.scalars(statement).all()
    if as_json:
        echo_json([{"occurred_at": as_utc(event.occurred_at).isoformat(),
                    "key": event.key_name, "action": event.action.value,
                    "datasets": [dataset.designation for dataset in event.datasets],
                    "image_ids": event.image_ids, "row_count": event.row_count,
                    "details": event.details} for event in events])
        return
    if not events:
        click.echo("no audit entries")
    for event in events:
        click.echo(format_event(event))
