"""What each filter parameter does to a query: one small clause builder per kind of filter."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, or_, select, true
from sqlalchemy.sql.expression import ColumnClause, Exists, ScalarSelect, SelectBase, TableClause

from app.access.designations import prefetched_ids
from app.access.visibility import visible_dataset_rows
from app.extensions import db
from app.models import Dataset
from app.qc.hidden import INCLUDE_ALL, include_blacklisted
from app.query.errors import InvalidParameter

# A filter turns the parameter's name and parsed value into a WHERE clause.
Filter = Callable[[str, Any], ColumnElement[bool]]


def not_deleted(*models: Any) -> ColumnElement[bool]:
    """Rows of every one of `models` that are not soft-deleted (withdrawn rows never show)."""
    return and_(*(model.deleted_at.is_(None) for model in models))


def any_of(column: ColumnElement[Any]) -> Filter:
    """Match rows whose column holds any of the given values."""
    return lambda _name, values: column.in_(values)


def equal_to(column: ColumnElement[Any]) -> Filter:
    """Match rows whose column equals the value."""
    return lambda _name, value: column == value


def equal_ignoring_case(column: ColumnElement[str]) -> Filter:
    """Match rows whose column equals the value, ignoring case (e.g. SIEMENS and Siemens)."""
    return lambda _name, value: func.lower(column) == value.lower()


def any_of_ignoring_case(column: ColumnElement[str]) -> Filter:
    """Match rows whose column equals any of the given values, ignoring case."""
    return lambda _name, values: func.upper(column).in_([value.upper() for value in values])


def flag(column: ColumnElement[bool]) -> Filter:
    """Match rows whose boolean column is the value; a missing value counts as false."""
    return lambda _name, value: func.coalesce(column, False) == value


def equal_to_lowered(column: ColumnElement[str]) -> Filter:
    """Match rows whose lower-cased column (stored so, and indexed) equals the value lower-cased:
    case is ignored as by equal_ignoring_case, without a function call on the column."""
    return lambda _name, value: column == value.lower()


def at_least(column: ColumnElement[Any]) -> Filter:
    """Match rows whose column is at least the value (NULL never matches)."""
    return lambda _name, value: column >= value


def at_most(column: ColumnElement[Any]) -> Filter:
    """Match rows whose column is at most the value (NULL never matches)."""
    return lambda _name, value: column <= value


def designated(model: Any, column: ColumnElement[int]) -> Filter:
    """Match rows whose `column` is the id of a `model` row with one of the given designations.

    A designation that does not exist is a 400 naming the parameter: a typo should not look
    like an empty result.
    """
    return lambda name, designations: column.in_(ids_of_designations(model, name, designations))


def designated_first_known(
    model: Any, first: ColumnElement[int], then: ColumnElement[int]
) -> Filter:
    """Like `designated`, for the id coalesce(first, then): `first` when known, else `then`.

    Written as `first IN ids OR (first IS NULL AND then IN ids)`, which matches the same rows
    as `coalesce(first, then) IN ids` but which PostgreSQL estimates from the two columns'
    statistics: for the coalesce it guesses 0.5% of the rows, and with that guess it sorted
    every matching image to return the first page instead of walking the primary key.
    """
    return lambda name, designations: _first_known_in(
        first, then, ids_of_designations(model, name, designations))


def _first_known_in(
    first: ColumnElement[int], then: ColumnElement[int], ids: list[int]
) -> ColumnElement[bool]:
    return or_(first.in_(ids), and_(first.is_(None), then.in_(ids)))


def with_ids_of(model: Any, build: Callable[[list[int]], ColumnElement[bool]]) -> Filter:
    """Like `designated`, for filters that need more than `column IN ids` (see subjects)."""
    return lambda name, designations: build(ids_of_designations(model, name, designations))


def all_of(build: Callable[[Any], ColumnElement[bool]]) -> Filter:
    """Match rows for which `build(value)` holds for every one of the given values."""
    return lambda _name, values: and_(*(build(value) for value in dict.fromkeys(values)))


def qc_states(column: ColumnElement[Any]) -> Filter:
    """Match rows whose QC state is one of the values ('all': any state); asking for
    blacklisted images (or all) lets the request see them (app/qc/hidden.py)."""
    def build(_name: str, values: list[str]) -> ColumnElement[bool]:
        if INCLUDE_ALL in values or "blacklisted" in values:
            include_blacklisted()
        return true() if INCLUDE_ALL in values else column.in_(values)
    return build


def ids_of_designations(model: Any, name: str, designations: list[str]) -> list[int]:
    """Return the ids of the `model` rows with these designations, in any case, or raise
    InvalidParameter (a 400) that names the unknown ones and lists the known ones."""
    wanted = {designation.lower(): designation for designation in designations}
    found = _ids_by_designation(model, list(wanted))
    unknown = sorted(wanted[lowered] for lowered in set(wanted) - set(found))
    if unknown:
        known = ", ".join(known_designations(model))
        message = f"unknown {name}: {', '.join(unknown)}" + (f" (known: {known})" if known else "")
        raise InvalidParameter(name, message)
    return [row_id for ids in found.values() for row_id in ids]


def _ids_by_designation(model: Any, lowered: list[str]) -> dict[str, list[int]]:
    """{lower-cased designation: ids} of the visible `model` rows with these designations:
    from the pairs fetched with the request's key when it has them (app/access/designations.py),
    else from a query (which the visibility hook filters)."""
    prefetched = prefetched_ids(model)
    if prefetched is None:
        rows = db.session.execute(
            select(func.lower(model.designation), model.id)
            .where(func.lower(model.designation).in_(lowered))
        ).all()
        found: dict[str, list[int]] = {}
        for designation, row_id in rows:
            found.setdefault(designation, []).append(row_id)
        return found
    visible = {designation: visible_dataset_rows(ids) if model is Dataset else ids
               for designation, ids in prefetched.items() if designation in lowered}
    return {designation: ids for designation, ids in visible.items() if ids}


def known_designations(model: Any) -> list[str]:
    """Return the designations of the `model` rows a client may ask for, sorted."""
    statement = select(model.designation).order_by(model.designation)
    if hasattr(model, "deleted_at"):
        statement = statement.where(model.deleted_at.is_(None))
    return sorted(db.session.scalars(statement))


def apply_filters(
    statement: Select, args: Mapping[str, Any], filters: Mapping[str, Filter]
) -> Select:
    """Add to `statement` the clause of every filter present in the parsed `args`."""
    return statement.where(*filter_clauses(args, filters))


def filter_clauses(args: Mapping[str, Any], filters: Mapping[str, Filter]
                   ) -> list[ColumnElement[bool]]:
    """The clause of every filter present in the parsed `args` (built once: a designation filter
    looks its ids up as it builds)."""
    return [build(name, args[name]) for name, build in filters.items() if name in args]


def joined_as_needed(statement: Select, base: FromClause,
                     joins: Mapping[FromClause, ColumnElement[bool]]) -> Select:
    """Outer-join to `base` only the tables of `joins` that the statement's WHERE names.

    A statement written over one table (a count over `image`, served by one index) then reaches
    another table only when a filter needs it (e.g. a visit's day); an outer join never drops a
    row of `base`, so the count is the same either way. Subqueries are self-contained (they
    name their own FROM), so the tables inside them are not joined.
    """
    declared = {table.name: (table, on) for table, on in joins.items()}
    named = _tables_named(statement.whereclause) - {base.name}
    if not named:
        return statement
    joined = base
    for name in sorted(named):
        if name not in declared:
            raise ValueError(f"no join from {base.name} to {name} is declared")
        joined = joined.outerjoin(*declared[name])
    return statement.select_from(joined)


def _tables_named(clause: ColumnElement[Any] | None) -> set[str]:
    """Names of the tables whose columns `clause` uses, outside its subqueries."""
    if clause is None:
        return set()
    return {column.table.name for column in outside_subqueries(clause)[0]
            if isinstance(column.table, TableClause)}


def outside_subqueries(clause: Any) -> tuple[list[ColumnClause], list[Any]]:
    """The table columns `clause` names outside its subqueries (not a literal column such as
    count's *), and its subqueries (SELECT, scalar SELECT, EXISTS), which name their own FROM."""
    columns, subqueries = [], []
    pending = [clause]
    while pending:
        element = pending.pop()
        if isinstance(element, SelectBase | ScalarSelect | Exists):
            subqueries.append(element)
            continue
        if isinstance(element, ColumnClause) and element.table is not None:
            columns.append(element)
        pending.extend(element.get_children())
    return columns, subqueries
