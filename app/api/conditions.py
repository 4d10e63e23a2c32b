"""GET /conditions: the master list of diagnoses every dataset's labels map onto."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.models import Condition

blp = Blueprint("conditions", __name__, url_prefix="/api/v1/conditions",
                description="Master list of diagnoses")

ConditionArgs = collection_args("ConditionArgs", sorts=("id", "designation"))


class ConditionSchema(Schema):
    """A condition of the master list."""

    id = fields.Integer(required=True)
    designation = fields.String(required=True, metadata={"example": "Alzheimer's disease"})
    description = fields.String(allow_none=True)


@blp.route("")
class Conditions(MethodView):
    @blp.arguments(ConditionArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(ConditionSchema))
    def get(self, args: dict[str, Any]):
        """List the conditions (their designations are the values of the condition filter)."""
        statement = select(Condition.id.label("id"), Condition.designation.label("designation"),
                           Condition.description.label("description"))
        return paginate(statement, args, "conditions")
