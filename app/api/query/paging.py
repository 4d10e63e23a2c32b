"""Sorting, page-number and keyset (cursor) pagination, and the collection envelope."""
from __future__ import annotations

import base64
import binascii
import enum
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask_smorest import abort
from sqlalchemy import BigInteger, ColumnElement, Select, and_, func, or_, select

from app.api.json import load_bounded_json
from app.api.query.columns import RowList
from app.api.query.params import text_problem
from app.extensions import db, end_read_only_transaction
from app.query.sorting import order_and_key, sorted_by, where_expression

# Integers in a cursor must fit their column: PostgreSQL casts parameters to the column type.
MAX_INTEGER = 2**31 - 1
MAX_BIG_INTEGER = 2**63 - 1


def envelope_schema(item_schema: type[ma.Schema], resource: str | None = None) -> type[ma.Schema]:
    """Return the schema of a page of `item_schema` rows (the collection envelope).

    It is named after `resource` (e.g. "Image" -> ImagePage), else after the item schema.
    """
    name = (resource or item_schema.__name__.removesuffix("Schema")) + "PageSchema"
    attributes = {
        "items": RowList(item_schema, required=True),
        "total": ma.fields.Integer(required=True, allow_none=True, metadata={
            "description": "Rows matching the filters, over all pages; null with total=false."}),
        "page": ma.fields.Integer(allow_none=True, metadata={
            "description": "Page number, or null when the page was asked for by cursor."}),
        "per_page": ma.fields.Integer(required=True),
        "next_cursor": ma.fields.String(allow_none=True, metadata={
            "description": "Pass as `cursor` to get the rows after this page; null on the last "
                           "page."}),
    }
    return type(name, (ma.Schema,), attributes)


def after_key(statement: Select, sort: str, key: list[Any]) -> Select:
    """Keep only the rows that come after the row whose (sort value, id) is `key`."""
    field, descending, column, id_column = order_and_key(statement, sort)
    value, last_id = key
    column, id_column = where_expression(column), where_expression(id_column)
    if field == "id":
        return statement.where(id_column < last_id if descending else id_column > last_id)
    if value is None:  # NULLs come last: only later NULL rows remain
        return statement.where(and_(column.is_(None), id_column > last_id))
    beyond = column < value if descending else column > value
    return statement.where(
        or_(beyond, and_(column == value, id_column > last_id), column.is_(None))
    )


def encode_cursor(resource: str, sort: str, row: Mapping[str, Any]) -> str:
    """Return the opaque cursor that points just after `row`."""
    value = row[sort.removeprefix("-")]
    if isinstance(value, enum.Enum):
        value = value.value
    elif isinstance(value, datetime):
        value = value.isoformat()
    document = json.dumps({"r": resource, "s": sort, "k": [value, row["id"]]},
                          separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def _bad_cursor(reason: str) -> None:
    message = f"invalid cursor: {reason}"
    abort(400, message=message, errors={"cursor": [message]})


def _checked_value(value: Any, column: ColumnElement[Any]) -> Any:
    """Return `value` if it can be compared with `column`, else refuse the cursor."""
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    if issubclass(python_type, enum.Enum):
        if not isinstance(value, str):
            _bad_cursor("wrong sort value")
        try:
            return python_type(value).value
        except ValueError:
            _bad_cursor("wrong sort value")
    if python_type is datetime and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            _bad_cursor("wrong sort value")
    if python_type is float and isinstance(value, int | float) and not isinstance(value, bool):
        # An integer is compared as the float it stands for: sent as an integer, 10**20 would
        # overflow PostgreSQL's bigint, and 10**400 overflows even a double.
        try:
            number = float(value)
        except OverflowError:
            _bad_cursor("wrong sort value")
        if math.isfinite(number):
            return number
    if python_type is int and isinstance(value, int) and not isinstance(value, bool):
        limit = MAX_BIG_INTEGER if isinstance(column.type, BigInteger) else MAX_INTEGER
        if -limit <= value <= limit:
            return value
    if python_type is str and isinstance(value, str) and text_problem(value) is None:
        return value
    _bad_cursor("wrong sort value")


def decode_cursor(cursor: str, resource: str, sort: str, statement: Select) -> list[Any]:
    """Return the (sort value, id) key a cursor holds, or abort with a 400 naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # Its strings are checked where they are used (_checked_value names the problem).
        document = load_bounded_json(base64.urlsafe_b64decode(padded.encode("ascii")),
                                     check_text=False)
    except (ValueError, binascii.Error, UnicodeError):  # JSONLimitError is a ValueError
        _bad_cursor("not a cursor of this API")
    if not (isinstance(document, dict) and document.get("r") == resource
            and isinstance(document.get("k"), list) and len(document["k"]) == 2):
        _bad_cursor("not a cursor of this collection")
    if document.get("s") != sort:
        _bad_cursor(f"it was made for sort={document.get('s')}, not sort={sort}")
    _, _, column, id_column = order_and_key(statement, sort)
    value, last_id = document["k"]
    if last_id is None:
        _bad_cursor("wrong id")
    return [_checked_value(value, column), _checked_value(last_id, id_column)]


def one_page(statement: Select, args: Mapping[str, Any],
             resource: str) -> tuple[Select, int | None]:
    """Return the statement of the page `args` ask for (sorted, after the cursor's key or at
    the page's offset, one row more than per_page) and the page's number (None by cursor);
    a bad cursor is a 400 naming it."""
    per_page, sort = args["per_page"], args["sort"]
    page_statement = sorted_by(statement, sort)
    page: int | None = None
    if "cursor" in args:
        key = decode_cursor(args["cursor"], resource, sort, statement)
        page_statement = after_key(page_statement, sort, key)
    else:
        page = args.get("page", 1)
        page_statement = page_statement.offset((page - 1) * per_page)
    # One row more than asked says whether a next page exists without a second query.
    return page_statement.limit(per_page + 1), page


def paginate(statement: Select, args: Mapping[str, Any], resource: str, *,
             counted: Select | None = None) -> dict[str, Any]:
    """Run `statement` for one page and return the collection envelope.

    Parameters
    ----------
    statement
        The filtered rows, unordered; its columns are labelled with the JSON field names and
        include `id` and every sort field.
    args
        Parsed query parameters: per_page, sort, page or cursor, and total (false: no count).
    resource
        Name written into cursors, so one collection's cursor is refused by another.
    counted
        A statement selecting the total of the same rows more cheaply (e.g. over one table);
        by default the rows of `statement` are counted.

    Returns
    -------
    {"items": [row mappings], "total", "page", "per_page", "next_cursor"}
    """
    per_page, sort = args["per_page"], args["sort"]
    if counted is None:
        counted = select(func.count()).select_from(statement.subquery())
    total = db.session.scalar(counted) if args.get("total", True) else None
    page_statement, page = one_page(statement, args, resource)
    rows = db.session.execute(page_statement).mappings().all()
    end_read_only_transaction()
    items = rows[:per_page]
    next_cursor = encode_cursor(resource, sort, items[-1]) if len(rows) > per_page else None
    return {"items": items, "total": total, "page": page, "per_page": per_page,
            "next_cursor": next_cursor}
