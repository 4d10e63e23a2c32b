"""The one progress bar of every long step (a load's writes, an upload, previews, header reads).

Bars go to stderr, so that stdout holds only a command's result, and only when stderr is a
terminal: piped or in a test, a command prints nothing but its result. The engine and the
loaders call `progress_bar` directly (it needs no Flask); code that must not import the engine
(app/files) takes a wrapper of iterables from its command instead.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def progress_bar(iterable: Iterable[Any] | None = None, *, desc: str, total: int | None = None,
                 unit: str = "", unit_scale: bool = False, min_total: int = 0,
                 enabled: bool | None = None, leave: bool = False, **options: Any) -> tqdm:
    """A tqdm bar on stderr over `iterable` (or updated by hand when None).

    Shown only when stderr is a terminal (`enabled` overrides that) and the work has at least
    `min_total` steps (`total`, else the iterable's length when it has one): a bar of a step
    that ends at once is noise. Other keyword options go to tqdm (e.g. `miniters`).
    """
    size = total if total is not None else _length(iterable)
    shown = sys.stderr.isatty() if enabled is None else enabled
    if size is not None and size < min_total:
        shown = False
    return tqdm(iterable, desc=desc, total=size, unit=unit, unit_scale=unit_scale, leave=leave,
                file=sys.stderr, disable=not shown, **options)


def _length(iterable: Iterable[Any] | None) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None
