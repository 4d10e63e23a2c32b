"""The HTTP API under /api/v1: one flask-smorest blueprint per resource family."""
from flask_smorest import Api

from app.api import (
    audit,
    claims,
    conditions,
    datasets,
    derived,
    downloads,
    file_types,
    health,
    images,
    scanners,
    stats,
    subjects,
    visits,
)

BLUEPRINTS = (
    health.blp, datasets.blp, conditions.blp, file_types.blp, scanners.blp, subjects.blp,
    visits.blp, images.blp, downloads.blp, stats.blp, audit.blp,
    claims.blp, derived.blp,
)


def register_blueprints(api: Api) -> None:
    """Register every blueprint of the API."""
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
