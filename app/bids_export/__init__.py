"""Cohorts and /images queries exported as BIDS datasets.

`names` places each image (labels, datatype, entities, runs), `files` lists the stored files an
image is exported from (`export_files`: the one place to add a new kind of source), `dataset`
plans the export (metadata files and objects to copy), `write` writes it to a folder; the API
streams the same plan as a zip (app/api/cohorts.py).
"""
from app.bids_export.dataset import BidsExport, LeftOut, plan_export
from app.bids_export.files import export_files
from app.bids_export.write import ExportError, write_directory

__all__ = ["BidsExport", "ExportError", "LeftOut", "export_files", "plan_export",
           "write_directory"]
