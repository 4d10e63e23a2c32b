"""RowList renders a page's rows exactly as the row schema's dump would, field by field."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma
import pytest
from marshmallow import fields, post_dump

from app.api.query.columns import RowList, UtcDateTime
from app.models import ImageType, Sex


class RowSchema(ma.Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    sex = fields.String(allow_none=True)
    age = fields.Float(allow_none=True)
    size = fields.Integer(as_string=True, allow_none=True)
    marked = fields.Boolean(allow_none=True)
    metadata_json = fields.Dict(allow_none=True)
    created_at = UtcDateTime(allow_none=True)
    renamed = fields.String(data_key="shown_as", allow_none=True)
    url = fields.String()
    kind = fields.String(dump_default="image")
    secret = fields.String(load_only=True)


ROWS = [
    # Values whose type the field keeps, and None everywhere it is allowed.
    {"id": 1, "type": "T1", "sex": None, "age": 61.5, "size": None, "marked": None,
     "metadata_json": None, "created_at": None, "renamed": None, "secret": "s"},
    # Values each field converts: a StrEnum, a bool and a Decimal in numeric fields, an int in
    # a float field, a naive time, bytes in a string field.
    {"id": True, "type": ImageType.RSFMRI, "sex": Sex.FEMALE, "age": 70, "size": 1024,
     "marked": 1, "metadata_json": {"TR": 2.0}, "created_at": datetime(2026, 1, 2, 3, 4, 5),
     "renamed": b"bytes", "url": "/api/v1/images/2/download", "kind": "T1 image"},
    {"id": Decimal(3), "type": "DWI", "sex": "male", "age": Decimal("1.25"), "size": 7,
     "marked": False, "metadata_json": {}, "renamed": "x",
     "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
]


def page_schema(item_schema: type[ma.Schema]) -> ma.Schema:
    return type("PageSchema", (ma.Schema,), {"items": RowList(item_schema)})()


def test_rows_render_as_the_schema_dumps_them():
    rendered = page_schema(RowSchema).dump({"items": ROWS})["items"]
    assert rendered == RowSchema(many=True).dump(ROWS)
    # And the expected values themselves, in the schema's field order.
    assert list(rendered[1]) == ["id", "type", "sex", "age", "size", "marked", "metadata_json",
                                 "created_at", "shown_as", "url", "kind"]
    assert rendered[1] == {
        "id": 1, "type": "rsfMRI", "sex": "female", "age": 70.0, "size": "1024",
        "marked": True, "metadata_json": {"TR": 2.0}, "created_at": "2026-01-02T03:04:05+00:00",
        "shown_as": "bytes", "url": "/api/v1/images/2/download", "kind": "T1 image"}
    assert rendered[0]["kind"] == "image" and "url" not in rendered[0]
    assert type(rendered[1]["id"]) is int and type(rendered[2]["age"]) is float


class HookedSchema(RowSchema):
    @post_dump
    def shout(self, data, **_kwargs):
        return {**data, "type": data["type"].upper()}


class MethodSchema(ma.Schema):
    id = fields.Integer()
    double = fields.Method("doubled")

    def doubled(self, row):
        return 2 * row["id"]


@pytest.mark.parametrize("schema", [HookedSchema, MethodSchema])
def test_schemas_the_fast_way_cannot_render_are_dumped(schema):
    rows = [{"id": 1, "type": "t1"}, {"id": 2, "type": "dwi"}]
    assert page_schema(schema).dump({"items": rows})["items"] == schema(many=True).dump(rows)


def test_objects_that_are_not_mappings_are_dumped():
    class Row:
        id = 4
        type = ImageType.T1

    assert page_schema(RowSchema).dump({"items": [Row()]})["items"] == [
        {"id": 4, "type": "T1", "kind": "image"}]


def test_no_list_stays_null():
    assert page_schema(RowSchema).dump({"items": None}) == {"items": None}
