"""Query parameters of the collections, in one place: filters, sorting, pages, cursors, CSV.

The parameters, schemas, pages and responses are this package's; what a filter or a sort does
to a statement is the query layer's (app/query), re-exported here for the resource modules."""
from app.api.query.export import csv_response, page_or_csv
from app.api.query.paging import envelope_schema, paginate
from app.api.query.params import Blueprint, NoArgs, collection_args, filter_args
from app.query.filters import (
    all_of,
    any_of,
    any_of_ignoring_case,
    apply_filters,
    at_least,
    at_most,
    designated,
    designated_first_known,
    equal_ignoring_case,
    equal_to,
    flag,
    not_deleted,
    qc_states,
    with_ids_of,
)
from app.query.sorting import sorted_by

__all__ = [
    "Blueprint", "NoArgs", "all_of", "any_of", "any_of_ignoring_case", "apply_filters",
    "at_least", "at_most", "collection_args", "csv_response", "designated",
    "designated_first_known", "envelope_schema", "equal_ignoring_case", "equal_to",
    "filter_args", "flag", "not_deleted", "page_or_csv", "paginate", "qc_states", "sorted_by",
    "with_ids_of",
]
