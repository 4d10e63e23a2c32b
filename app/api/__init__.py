"""The HTTP API under /api/v1: one flask-smorest blueprint per resource family."""
from flask_smorest import Api

from app.api import downloads, health

BLUEPRINTS = (health.blp, downloads.blp)


def register_blueprints(api: Api) -> None:
    """Register every blueprint of the API."""
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
