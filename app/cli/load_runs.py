"""`flask load-runs [DATASET]`: the recent loads, successful or failed, newest first."""
from __future__ import annotations

import json

import click
from sqlalchemy import func, select

from app.cli.reporting import when
from app.extensions import db
from app.models import Dataset, LoadRun
from app.models.load_run import shown_status

DEFAULT_LIMIT = 20


@click.command("load-runs")
@click.argument("dataset", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="How many runs to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def load_runs_command(dataset: str | None, limit: int, as_json: bool) -> None:
    """List the recent loads (of DATASET, any case): when, loader, status, and the error.

    A load still recorded as running whose process is gone (killed) shows as interrupted.
    """
    query = (select(LoadRun, Dataset.designation)
             .outerjoin(Dataset, LoadRun.dataset_id == Dataset.id)
             .order_by(LoadRun.started_at.desc(), LoadRun.id.desc()).limit(limit))
    if dataset is not None:
        query = query.where(func.lower(Dataset.designation) == dataset.lower())
    runs = [{"id": run.id, "dataset": designation, "loader": run.loader,
             "status": shown_status(run.status, run.pid, run.host), "dry_run": run.dry_run,
             "started_at": when(run.started_at), "finished_at": when(run.finished_at),
             "error": run.error, "report": run.report}
            for run, designation in db.session.execute(query).all()]
    if as_json:
        click.echo(json.dumps(runs, indent=2))
        return
    if not runs:
        click.echo("no load runs")
    for run in runs:
        click.echo(f"{run['started_at']}\t{run['loader']}\t{run['dataset'] or '-'}\t"
                   f"{run['status']}" + (f"\t{run['error']}" if run["error"] else ""))

