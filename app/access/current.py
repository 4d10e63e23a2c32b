"""What the key of the current request may do and see: set by app.access.auth, read elsewhere."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from flask import g, has_app_context

from app.models.api_key import Scope

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    """The scopes and visible datasets of the key an API request was made with."""

    key_name: str
    scopes: frozenset[str]
    # None: every dataset; else the ids of the datasets granted to the key.
    visible_dataset_ids: frozenset[int] | None

    @property
    def counts_only(self) -> bool:
        """Whether the key sees counts only (the aggregate scope without read): small counts
        are then suppressed (app/query/stats.py, suppressed)."""
        return Scope.AGGREGATE.value in self.scopes and Scope.READ.value not in self.scopes


def current_access() -> Access | None:
    """Return the access of the current request's key; None outside an authenticated request."""
    return g.get("access") if has_app_context() else None


def visible_dataset_ids() -> frozenset[int] | None:
    """Return the ids of the datasets the request's key may see, or None for every dataset.

    Outside an authenticated request (commands, loaders, public routes) all are visible. The
    query layer applies this to every query (app/access/visibility.py).
    """
    access = current_access()
    return None if access is None else access.visible_dataset_ids


def dataset_visible(dataset_id: int) -> bool:
    """Return whether the request's key may see the dataset `dataset_id`."""
    visible = visible_dataset_ids()
    return visible is None or dataset_id in visible


def counts_only() -> bool:
    """Return whether the current request's key sees counts only (see Access.counts_only)."""
    access = current_access()
    return access is not None and access.counts_only


def current_key_name() -> str:
    """Return the name of the key the current request was made with."""
    access = current_access()
    if access is None:
        raise RuntimeError("no authenticated request")
    return access.key_name


def keeping_access(chunks: Iterator[T]) -> Iterator[T]:
    """Return `chunks` run with the current request's access.

    A streamed response is produced after the request's teardown has dropped the access (wrap
    it in Flask's stream_with_context too): its queries must still see only what the key may.
    """
    access = current_access()

    def run() -> Iterator[T]:
        previous = g.get("access")
        g.access = access
        try:
            yield from chunks
        finally:
            g.access = previous

    return run()
