"""GET /file_types: the kinds of derived files preprocessing produces."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.models import FileType

blp = Blueprint("file_types", __name__, url_prefix="/api/v1/file_types",
                description="Kinds of derived files")

FileTypeArgs = collection_args("FileTypeArgs", sorts=("id", "designation"))


class FileTypeSchema(Schema):
    """A kind of derived file."""

    id = fields.Integer(required=True)
    designation = fields.String(required=True, metadata={"example": "T1_mni"})
    description = fields.String(allow_none=True)


@blp.route("")
class FileTypes(MethodView):
    @blp.arguments(FileTypeArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(FileTypeSchema))
    def get(self, args: dict[str, Any]):
        """List the kinds of derived files."""
        statement = select(FileType.id.label("id"), FileType.designation.label("designation"),
                           FileType.description.label("description"))
        return paginate(statement, args, "file_types")
