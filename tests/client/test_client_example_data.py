"""Over the bundled example data: the client's frame has exactly the rows the API counts."""
from __future__ import annotations

import requests
from mbid_client import Client

from tests.support.examples import flask_load


def test_t1_women_over_60_frame_has_the_apis_total(app, live_server, token):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    for designation in ("OASIS", "OpenPain", "HCP"):
        assert flask_load(app, designation).exit_code == 0
    query = {"type": "T1", "sex": "female", "age_min": 60}
    total = requests.get(f"{live_server.url}/api/v1/images", params=query, timeout=30,
                         headers={"Authorization": f"Bearer {token}"}).json()["total"]
    frame = Client(live_server.url, token).images(**query)
    assert frame.shape[0] == total > 0
    assert set(frame["sex"]) == {"female"} and frame["age_at_scan"].min() >= 60
