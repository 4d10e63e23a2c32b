"""The HTTP API under /api/v1: one flask-smorest blueprint per resource family."""
from flask import Flask
from flask_smorest import Api

from app.api import (
    audit,
    claims,
    cohorts,
    conditions,
    datasets,
    derived,
    downloads,
    file_types,
    health,
    images,
    load_runs,
    measures,
    participants,
    qc,
    scanners,
    stats,
    subjects,
    visits,
)
from app.api.json import FiniteJSONProvider
from app.api.query.params import refuse_undeclared_parameters, refuse_undecodable_request

BLUEPRINTS = (
    health.blp, datasets.blp, conditions.blp, measures.blp, file_types.blp, scanners.blp,
    subjects.blp, visits.blp, images.blp, downloads.blp, stats.blp, load_runs.blp, audit.blp,
    cohorts.blp, qc.blp, claims.blp, derived.blp, participants.blp,
)


def register_blueprints(api: Api) -> None:
    """Register every blueprint of the API."""
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)


def init_app(app: Flask, api: Api) -> None:
    """Serve the API from `app`: its JSON encoding, every blueprint, and the refusal of query
    parameters by the routes that declare none (e.g. downloads, health, the OpenAPI document),
    whichever blueprint they belong to."""
    app.json = FiniteJSONProvider(app)
    app.before_request(refuse_undecodable_request)
    app.before_request(refuse_undeclared_parameters)
    register_blueprints(api)
