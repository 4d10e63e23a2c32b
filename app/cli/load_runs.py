"""`flask load-runs [DATASET]`: the recent loads, successful or failed, newest first."""
from __future__ import annotations

import click
from sqlalchemy import select

from app.cli.arguments import dataset_argument
from app.cli.reporting import echo_json, json_option, when
from app.extensions import db
from app.models import Dataset, LoadRun
from app.models.load_run import shown_status

DEFAULT_LIMIT = 20


@click.command("load-runs")
@dataset_argument(required=False)
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="How many runs to list.")
@json_option
def load_runs_command(dataset: str | None, limit: int, as_json: bool) -> None:
    """List the recent loads (of DATASET, any case): when, loader, status, and the error.

    An unknown DATASET is an error (exit code 2); a known one never loaded lists nothing.

    A load still recorded as running whose process is gone (killed) shows as interrupted.
    """
    query = (select(LoadRun, Dataset.designation)
             .outerjoin(Dataset, LoadRun.dataset_id == Dataset.id)
             .order_by(LoadRun.started_at.desc(), LoadRun.id.desc()).limit(limit))
    if dataset is not None:
        query = query.where(Dataset.designation == dataset)
    runs = [{"id": run.id, "dataset": designation, "loader": run.loader,
             "status": shown_status(run.status, run.pid, run.host), "dry_run": run.dry_run,
             "started_at": when(run.started_at), "finished_at": when(run.finished_at),
             "error": run.error, "report": run.report}
            for run, designation in db.session.execute(query).all()]
    if as_json:
        echo_json(runs)
        return
    if not runs:
        click.echo("no load runs")
    for run in runs:
        click.echo(f"{run['started_at']}\t{run['loader']}\t{run['dataset'] or '-'}\t"
                   f"{run['status']}" + (f"\t{run['error']}" if run["error"] else ""))

