"""RADIFOX-style type names: `bodypart-modality-technique-acqdim-orientation-excontrast[-extras]`.

Each image keeps two names: `predicted_name` (predicted from its header, predict.py) and
`manual_name` (given by hand from a CSV file, `flask names DATASET --manual FILE`, store.py);
the manual one wins wherever a name is read or filtered (EFFECTIVE_NAME). Filters on names
(`/images?name=modality=T1;acqdim=3D`) live with the other filters (app/query/names.py).
"""
from __future__ import annotations

from sqlalchemy import func

from app.models import Image

COMPONENTS = ("bodypart", "modality", "technique", "acqdim", "orientation", "excontrast")
UNKNOWN = "UNK"
# The name an image answers to: the manual one when given, else the predicted one.
EFFECTIVE_NAME = func.coalesce(Image.manual_name, Image.predicted_name)


class NameFilterError(ValueError):
    """A name filter that does not follow the `key=VALUE;key=VALUE` syntax."""
