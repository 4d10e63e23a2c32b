"""Swagger UI's files, served by the app from the pinned swagger-ui-bundle package, so that the
interactive documentation page (/api/v1/docs) works without network access."""
from __future__ import annotations

from flask import Blueprint, Flask, send_from_directory

ASSETS_URL = "/api/v1/docs/assets/"

blueprint = Blueprint("swagger_assets", __name__)


@blueprint.route(ASSETS_URL + "<path:filename>")
def swagger_asset(filename: str):
    """Return one file of Swagger UI (404 for anything outside its folder)."""
    from swagger_ui_bundle import swagger_ui_path  # on the first request for an asset

    return send_from_directory(swagger_ui_path, filename, max_age=3600)


def init_app(app: Flask) -> None:
    """Serve Swagger UI's files and point the docs page at them."""
    app.config["OPENAPI_SWAGGER_UI_URL"] = ASSETS_URL
    app.register_blueprint(blueprint)
