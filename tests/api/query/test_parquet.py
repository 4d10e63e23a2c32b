"""format=parquet on /images, /subjects and /visits: the CSV export's rows and columns, typed."""
from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.api.query import parquet
from app.models import AuditEvent

COLLECTIONS = ("images", "subjects", "visits")


def read_parquet(response) -> pa.Table:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.apache.parquet"
    return pq.read_table(io.BytesIO(response.get_data()))


def csv_as_text(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def as_csv_text(value) -> str:
    """A Parquet value as the CSV export writes it (a list's items joined by '; ')."""
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_parquet_holds_the_rows_and_columns_of_the_csv_export(get, world, collection):
    table = read_parquet(get(f"/{collection}", format="parquet", sort="-id"))
    rows = csv_as_text(get(f"/{collection}", format="csv", sort="-id"))
    assert table.column_names == list(rows[0])
    assert [{name: as_csv_text(value) for name, value in row.items()}
            for row in table.to_pylist()] == rows


def test_image_columns_are_typed_and_read_back_with_pandas(get, world):
    table = read_parquet(get("/images", format="parquet", type="T1", sex="female"))
    types = {field.name: str(field.type) for field in table.schema}
    assert (types["id"], types["file_size"], types["age_at_scan"], types["path"]) == (
        "int64", "int64", "double", "string")
    frame = table.to_pandas()
    assert world.names("images", frame["id"].tolist()) == ["i1", "i3", "i6", "i8"]
    assert frame.loc[0, "age_at_scan"] == 70.0 and frame.loc[0, "file_size"] == 1001


def test_a_subjects_conditions_are_a_list_column(get, world):
    table = read_parquet(get("/subjects", format="parquet"))
    assert str(table.schema.field("conditions").type) == "list<element: string>"


def test_an_empty_result_is_a_valid_file_with_the_columns(get, world):
    table = read_parquet(get("/visits", format="parquet", sex="other"))
    assert table.num_rows == 0 and "age_at_visit" in table.column_names


def test_a_parquet_export_is_audited_with_its_row_count(get, session, world):
    read_parquet(get("/subjects", format="parquet", dataset="BETA"))
    session.expire_all()
    event = session.query(AuditEvent).filter_by(action="export").one()
    assert event.row_count == 3 and event.details["query"]["format"] == ["parquet"]


def test_rows_are_written_a_batch_at_a_time(get, world, monkeypatch):
    # Three rows per batch: eight images make three row groups, so the file is written as the
    # rows come, never held whole.
    monkeypatch.setattr(parquet, "PARQUET_BATCH_ROWS", 3)
    response = get("/images", format="parquet")
    assert pq.ParquetFile(io.BytesIO(response.get_data())).metadata.num_row_groups == 3
