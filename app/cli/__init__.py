"""`flask` commands: seeding, loading, datasets, API keys, storage.

Commands are registered lazily: each is named here with its one-line help, and its module (which
may import the loaders, load_db and load_file) is imported only when the command is run or its
full help is asked for. So `create_app()`, which the API server runs, imports no loader, and
app/ never imports load_db/ or load_file/ at import time.
"""
from __future__ import annotations

import importlib
from typing import Any

import click
from flask import Flask

# command name -> ("module:attribute" of the click command, one-line help)
COMMANDS = {
    "seed": ("app.cli.seed:seed_command",
             "Load the datasets, conditions and file types lists."),
    "load": ("app.cli.load:load_command",
             "Load a dataset (or every one with example data) in one transaction."),
    "load-bids": ("app.cli.load_bids:load_bids_command",
                  "Load any BIDS dataset in one transaction."),
    "load-dicom": ("app.cli.load_dicom:load_dicom_command",
                   "Load a folder of DICOM series in one transaction."),
    "harmonise": ("app.cli.harmonise:harmonise_command",
                  "Re-apply a dataset's mapping file to its stored labels and raw values."),
    "load-runs": ("app.cli.load_runs:load_runs_command",
                  "List recent loads, successful or failed."),
    "dataset": ("app.cli.dataset:dataset_group", "List or delete datasets."),
    "demo-token": ("app.cli.demo:demo_token_command",
                   "Print the demo API token, creating it only when missing or revoked."),
    "apikey": ("app.cli.apikey:apikey_group", "Create, list and revoke API keys."),
    "upload": ("app.cli.storage:upload_command", "Upload a dataset tree to object storage."),
    "check-storage": ("app.cli.storage:check_storage_command",
                      "Compare a dataset tree with its stored objects."),
    "export-bids": ("app.cli.export_bids:export_bids_command",
                    "Write a cohort or a query's images as a BIDS dataset."),
    "audit": ("app.cli.audit:audit_command", "Print the audit log, oldest entry first."),
    "qc": ("app.cli.qc:qc_group",
           "Quality control: completeness of visits, QC reviews of images."),
    "convert": ("app.cli.convert:convert_command",
                "Convert a dataset's DICOM images to NIfTI with dcm2niix."),
    "previews": ("app.cli.previews:previews_command",
                 "Make the missing QA previews of a dataset's NIfTI files."),
    "names": ("app.cli.names:names_command",
              "Predict RADIFOX-style image names of a dataset; set manual ones."),
    # Flask-Migrate's group, imported (with Alembic) only when a migration command runs.
    "db": ("flask_migrate.cli:db", "Perform database migrations."),
}


class LazyCommand(click.Command):
    """A command whose real click command is imported from `target` only when it is used."""

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name, short_help=short_help, help=short_help)
        self.target = target
        self._command: click.Command | None = None

    @property
    def command(self) -> click.Command:
        """The real command, imported on first use."""
        if self._command is None:
            module, attribute = self.target.split(":")
            self._command = getattr(importlib.import_module(module), attribute)
        return self._command

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        # The context belongs to the real command: the caller then invokes ctx.command.
        return self.command.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.command.invoke(ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.command.get_params(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.command.get_help(ctx)


def register_commands(app: Flask) -> None:
    """Add every MBID-db command to `flask`, without importing any of them yet."""
    for name, (target, short_help) in COMMANDS.items():
        app.cli.add_command(LazyCommand(name, target, short_help))
