"""load_db/engine/documents.py: a checked document is encoded once, as json.dumps would."""
from __future__ import annotations

import json

import pandas as pd

from load_db.engine.documents import EncodedDocument, encoded
from load_db.engine.frames import IMAGES
from load_db.engine.report import LoadReport
from load_db.engine.validation import checked


def test_checked_documents_carry_the_text_json_dumps_gives():
    documents = [{"EchoTime": 0.003, "Name": "é", "Nested": {"a": [1, None]}}, None,
                 {"Bad": float("nan")}]
    frame = pd.DataFrame({"subject": ["01"] * 3, "visit": ["1"] * 3,
                          "path": ["a.nii", "b.nii", "c.nii"], "type": ["T1"] * 3,
                          "metadata": documents})
    metadata = checked(frame, IMAGES, LoadReport())["metadata"].tolist()
    assert type(metadata[0]) is EncodedDocument
    assert metadata[0] == documents[0] and metadata[0].text == json.dumps(documents[0])
    assert encoded(metadata[0]) == json.dumps(documents[0])
    assert metadata[1] is None
    # a cleaned document is a plain dict again, encoded when written
    assert type(metadata[2]) is dict and encoded(metadata[2]) == '{"Bad": null}'
