"""The arguments every `flask` command shares: the positional DATASET, and the deprecated
`--dataset` option of `load-bids` and `load-dicom` kept as a hidden alias for one release.

A command that acts on a dataset takes it first, positionally, as `dataset_argument`; a command
that lists or reports takes `json_option` (app/cli/reporting.py); a command that may run for
more than a few seconds shows `progress_bar` (load_db/engine/progress.py) on stderr.
"""
from __future__ import annotations

import logging
from typing import Any

import click
from sqlalchemy import func, select

from app.extensions import db
from app.models import Dataset

log = logging.getLogger(__name__)

# The release that removes the `--dataset NAME` alias of `load-bids` and `load-dicom`
# (deprecated in 0.2.0, the release that made the dataset positional everywhere).
ALIAS_REMOVED_IN = "0.3.0"
LEGACY_DATASET_OPTION = "--dataset"


def known_designation(name: str) -> str | None:
    """The designation of the dataset named `name` in any case (an exact match first), or None."""
    exact = db.session.scalar(select(Dataset.designation).where(Dataset.designation == name))
    if exact is not None:
        return exact
    return db.session.scalars(select(Dataset.designation).where(
        func.lower(Dataset.designation) == name.lower()).order_by(Dataset.designation)).first()


def unknown_dataset(name: str) -> str:
    """The message for a dataset name the datasets table does not hold, listing those it does."""
    # Sorted here, not by the database: its collation (PostgreSQL's locale) may differ.
    known = sorted(db.session.scalars(select(Dataset.designation)))
    return f"no dataset {name!r} (known: {', '.join(known) or 'none'})"


def resolve_dataset(name: str) -> str:
    """The designation of dataset `name` (any case); an unknown one is a usage error (exit 2)."""
    found = known_designation(name)
    if found is None:
        raise click.BadParameter(unknown_dataset(name), param_hint="'DATASET'")
    return found


class DatasetName(click.ParamType):
    """A dataset's designation in any case, turned into the one the datasets table holds.

    An unknown name is a usage error (exit code 2) naming the known ones. Two commands look it
    up later themselves: a load with --register (`new_allowed`: it may create the dataset),
    and an upload to an explicit --prefix (`deferred`: the database is then not read at all).
    """

    name = "dataset"

    def __init__(self, *, new_allowed: bool = False, deferred: bool = False) -> None:
        self.new_allowed, self.deferred = new_allowed, deferred

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        if self.deferred:
            return str(value)
        found = known_designation(str(value))
        if found is not None:
            return found
        if self.new_allowed:
            return str(value)
        self.fail(unknown_dataset(str(value)), param, ctx)


def dataset_argument(*, new_allowed: bool = False, deferred: bool = False,
                     required: bool = True):
    """The positional DATASET of a command (matched in any case against the datasets table)."""
    return click.argument("dataset", metavar="DATASET", required=required,
                          type=DatasetName(new_allowed=new_allowed, deferred=deferred))


class DatasetAliasCommand(click.Command):
    """A command whose dataset is positional, still accepting the deprecated `--dataset NAME`.

    The option is hidden from the help: given, it is moved to the front of the arguments (where
    DATASET stands) and a deprecation note is logged (on stderr, so that stdout still holds only
    the result, e.g. the --json report scripts parse).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, without_legacy_option(self.name or "", args))


def without_legacy_option(command: str, args: list[str]) -> list[str]:
    """`args` with `--dataset NAME` (or `--dataset=NAME`) turned into a leading NAME."""
    rest, names = [], []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":  # what follows is positional, never an option
            rest.extend(args[index:])
            break
        if arg == LEGACY_DATASET_OPTION and index + 1 < len(args):
            names.append(args[index + 1])
            index += 2
            continue
        if arg.startswith(f"{LEGACY_DATASET_OPTION}="):
            names.append(arg.partition("=")[2])
        else:
            rest.append(arg)
        index += 1
    if not names:
        return args
    log.warning("Deprecated: `flask %s ... --dataset NAME` is removed in release %s; give the "
                "dataset first: `flask %s NAME ...`.", command, ALIAS_REMOVED_IN, command)
    return [names[-1], *rest]
