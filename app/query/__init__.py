"""The reads the API, the dashboard, the commands and the exports share: which rows a request
sees (visibility, QC state), the filters over the models, the image and dataset rows with their
totals, /stats counts, cohorts with their manifests and diffs, and the CSV text of an export.

Nothing here parses arguments or renders schemas (app/api does: flask_smorest and marshmallow
stay there); a bad parameter value found while building a statement is an InvalidParameter.

- errors.py      InvalidParameter (a 400 naming its parameter)
- visibility.py  per-dataset grants applied to every SELECT (session hook)
- qc_state.py    blacklisted images hidden from every SELECT (session hook)
- filters.py     one clause builder per kind of filter; designations to ids
- metadata.py    meta.<Field> filters as SQL
- measures.py    measure filters, the value of a measure that counts for a row, measure columns
- rows.py        the row expressions the resources share (scan day, ages, conditions)
- images.py      the image row, its joins and filters: select_images, matching_images
- datasets.py    the dataset row and its counts: select_datasets, with_counts
- stats.py       stats_of, a measure's distribution, and small-count suppression
- cohorts.py     manifests, their SHA-256, frozen and current manifests, diffs, saving
- sorting.py     sorted_by: the one order of every collection, page and export
- export.py      CSV text of a statement (formula cells neutralised)
"""
