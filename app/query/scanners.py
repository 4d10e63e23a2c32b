"""The scanner row (the scanners of each dataset), its filters and the statement over it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from app.models import Dataset, Scanner
from app.query.filters import designated, equal_ignoring_case, equal_to
from app.query.rows import DATASET, labelled_row

# Each /scanners filter parameter and what it does to the scanner rows.
SCANNER_FILTERS = {
    "dataset": designated(Dataset, Scanner.dataset_id),
    "field_strength": equal_to(Scanner.field_strength),
    "manufacturer": equal_ignoring_case(Scanner.manufacturer),
}

# A scanner of one dataset, field by field; unknown parts are empty strings.
SCANNER_ROW: dict[str, ColumnElement[Any]] = {
    "id": Scanner.id,
    "dataset": DATASET,
    "manufacturer": Scanner.manufacturer,
    "model": Scanner.model,
    "serial": Scanner.serial,
    "field_strength": Scanner.field_strength,
}


def select_scanners() -> Select:
    """Return the scanner rows of the datasets that are not soft-deleted."""
    return (
        select(*labelled_row(SCANNER_ROW))
        .join(Dataset, Dataset.id == Scanner.dataset_id)
        .where(Dataset.deleted_at.is_(None))
    )
