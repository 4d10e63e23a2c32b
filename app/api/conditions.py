"""GET /conditions: the master list of diagnoses every dataset's labels map onto."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.api.query.columns import labelled, master_list_columns, row_schema
from app.models import Condition

blp = Blueprint("conditions", __name__, url_prefix="/api/v1/conditions",
                description="Master list of diagnoses")

ConditionArgs = collection_args("ConditionArgs", sorts=("id", "designation"))


CONDITION_COLUMNS = master_list_columns(Condition, example="Alzheimer's disease")
# A condition of the master list.
ConditionSchema = row_schema("ConditionSchema", CONDITION_COLUMNS)


@blp.route("")
class Conditions(MethodView):
    @blp.arguments(ConditionArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ConditionSchema))
    def get(self, args: dict[str, Any]):
        """List the conditions (their designations are the values of the condition filter)."""
        statement = select(*labelled(CONDITION_COLUMNS))
        return paginate(statement, args, "conditions")
