"""Where a load command reads its dataset: ROOT on disk, or a prefix in object storage."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from app.cli.arguments import known_designation, unknown_dataset
from app.storage import Storage, StorageError, check_designation, get_storage

Tree = TypeVar("Tree")


def root_or_storage(root: Path | None, storage_prefix: str | None,
                    tree: Callable[[Storage, str], Tree]) -> Path | Tree:
    """ROOT, or `tree(storage, prefix)` with --storage-prefix: exactly one must be given.

    Raises click's usage errors (exit code 2): neither or both given, or a bad prefix.
    """
    if (root is None) == (storage_prefix is None):
        raise click.UsageError("give either ROOT or --storage-prefix (exactly one)")
    if storage_prefix is None:
        return root
    try:
        return tree(get_storage(), storage_prefix)
    except StorageError as exc:
        raise click.BadParameter(str(exc), param_hint="--storage-prefix") from exc


def check_registrable(dataset: str, register: bool) -> None:
    """Refuse a dataset the datasets table lacks unless --register, and with --register a
    designation that cannot name a dataset (both exit code 2)."""
    if known_designation(dataset) is not None:
        return
    if not register:
        raise click.BadParameter(f"{unknown_dataset(dataset)}; --register creates it",
                                 param_hint="DATASET")
    reason = check_designation(dataset)
    if reason:  # a registered dataset's designation becomes its storage prefix
        raise click.BadParameter(f"{dataset!r} cannot name a dataset: {reason}",
                                 param_hint="DATASET")


# The options every dataset load command shares (DATASET itself: app/cli/arguments.py).
register_option = click.option(
    "--register", is_flag=True,
    help="Create the dataset when it is not in the seed list instead of stopping.")
dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Read, check and count everything, then roll back.")
