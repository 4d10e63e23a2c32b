"""The docs page is served with Swagger UI's own files, from the app: nothing from elsewhere."""
from __future__ import annotations

import re


def test_the_docs_page_loads_only_files_of_the_app(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(sources) == ["/api/v1/docs/assets/swagger-ui-bundle.js",
                               "/api/v1/docs/assets/swagger-ui-standalone-preset.js",
                               "/api/v1/docs/assets/swagger-ui.css"]
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.get_data()) > 10_000
    assert "http" not in page.headers["Content-Security-Policy"]


def test_only_swagger_ui_files_are_served(client):
    assert client.get("/api/v1/docs/assets/../../../app/__init__.py").status_code == 404
    assert client.get("/api/v1/docs/assets/nothing.js").status_code == 404
