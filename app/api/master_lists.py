"""One blueprint per master list (conditions, file types, measures): GET /<list> pages through
its rows.

A master list is a table of designations (id, designation, description, and what else the list
holds) that other rows point to, listed the same way; its module only names it and its extra
columns (e.g. app/api/conditions.py).
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.api.query.columns import Column, labelled, master_list_columns, row_schema


def master_list_blueprint(model: Any, name: str, import_name: str, *, description: str,
                          example: str, doc: str,
                          extra_columns: dict[str, Column] | None = None) -> Blueprint:
    """Return the blueprint of GET /api/v1/`name`, a page of the rows of `model`.

    Parameters
    ----------
    model
        The master list's model (its id, designation and description are listed).
    name
        The blueprint's and the collection's name (the URL path and the cursor's resource).
    import_name
        The calling module's `__name__`.
    description, example, doc
        The OpenAPI text: the tag's description, an example designation, and the route's
        docstring.
    extra_columns
        The list's columns besides id, designation and description, by their names.
    """
    blp = Blueprint(name, import_name, url_prefix=f"/api/v1/{name}", description=description)
    # The schemas are named after the model (ConditionArgs, ConditionSchema, ConditionPage...),
    # as the OpenAPI document names them.
    args_schema = collection_args(f"{model.__name__}Args", sorts=("id", "designation"))
    columns = {**master_list_columns(model, example=example), **(extra_columns or {})}
    item_schema = row_schema(f"{model.__name__}Schema", columns)

    class MasterList(MethodView):
        @blp.arguments(args_schema, location="query", as_kwargs=False)
        @blp.response(200, envelope_schema(item_schema))
        def get(self, args: dict[str, Any]):
            return paginate(select(*labelled(columns)), args, name)

        get.__doc__ = doc

    # The class name is the route's endpoint (e.g. conditions.Conditions).
    MasterList.__name__ = MasterList.__qualname__ = f"{model.__name__}s"
    blp.route("")(MasterList)
    return blp
