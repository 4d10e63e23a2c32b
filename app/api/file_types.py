"""GET /file_types: the kinds of derived files preprocessing produces."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from app.api.query import Blueprint, collection_args, envelope_schema, paginate
from app.api.query.columns import labelled, master_list_columns, row_schema
from app.models import FileType

blp = Blueprint("file_types", __name__, url_prefix="/api/v1/file_types",
                description="Kinds of derived files")

FileTypeArgs = collection_args("FileTypeArgs", sorts=("id", "designation"))


FILE_TYPE_COLUMNS = master_list_columns(FileType, example="T1_mni")
# A kind of derived file.
FileTypeSchema = row_schema("FileTypeSchema", FILE_TYPE_COLUMNS)


@blp.route("")
class FileTypes(MethodView):
    @blp.arguments(FileTypeArgs, location="query", as_kwargs=False)
    @blp.response(200, envelope_schema(FileTypeSchema))
    def get(self, args: dict[str, Any]):
        """List the kinds of derived files."""
        statement = select(*labelled(FILE_TYPE_COLUMNS))
        return paginate(statement, args, "file_types")
