"""Turn a load's bad-input error into a clear message and a non-zero exit code."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

# load_db.engine.errors.EXIT_BAD_INPUT (a test checks they agree): not imported here, because
# importing the engine imports pandas, and commands that never load (e.g. `flask apikey`) use
# BadInput too.
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """Bad input: printed as 'Error: <file>, row N, column 'x': <problem>', exit code 2."""

    exit_code = EXIT_BAD_INPUT


@contextmanager
def load_errors_as_exit_codes() -> Iterator[None]:
    """Report a LoadError as a command-line error; the load has already rolled back."""
    from load_db.engine.errors import LoadError

    try:
        yield
    except LoadError as exc:
        raise BadInput(f"{exc} (nothing was written)") from exc
