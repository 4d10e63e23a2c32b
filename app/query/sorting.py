"""The one order of every collection, page and export: by a row field, NULLs last, then by id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Label, Select


def where_expression(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The expression of a selected column as WHERE needs it: a labelled column renders as its
    label in ORDER BY but must be its expression in WHERE."""
    return column.element if isinstance(column, Label) else column


def order_and_key(statement: Select, sort: str) -> tuple[str, bool, ColumnElement, ColumnElement]:
    """The sort field of `sort` ('-field' descending), whether it descends, its selected column
    and the selected `id` column (the tie-breaker)."""
    field = sort.removeprefix("-")
    return (field, sort.startswith("-"), statement.selected_columns[field],
            statement.selected_columns["id"])


def sorted_by(statement: Select, sort: str) -> Select:
    """Order `statement` by the row field `sort` ('-field' descending), NULLs last, then by id.

    NULLs are placed explicitly because SQLite and PostgreSQL disagree on where they go.
    """
    field, descending, column, id_column = order_and_key(statement, sort)
    ordered = column.desc() if descending else column.asc()
    statement = statement.order_by(ordered.nulls_last())
    return statement if field == "id" else statement.order_by(id_column.asc())
