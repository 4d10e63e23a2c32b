"""`flask qc completeness|review|history` over a generated DATMAN-named tree."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import Image, QcState
from tests.support.dicom import load_datman_tree


@pytest.fixture
def spins(app, seeded, tmp_path):
    return load_datman_tree(app, tmp_path)


def qc(app, *args: str):
    return app.test_cli_runner().invoke(args=["qc", *args])


def test_completeness_prints_one_line_per_visit_and_the_phantoms(app, spins):
    result = qc(app, "completeness", "SPINS")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "SPINS_CMH_0001\t01\tCMH\tcomplete\tmissing: -\trepeated: T1 +1\tunexpected: -",
        "SPINS_CMH_0001\t02\tCMH\tcomplete\tmissing: -\trepeated: -\t"
        "unexpected: untagged #7 'extra_survey'",
        "SPINS_CMH_0002\t01\tCMH\tincomplete\tmissing: DTI x1\trepeated: -\tunexpected: -",
        "phantom SPINS_CMH_PHA_FBN0001\tCMH\tT1 x1",
    ]
    incomplete = json.loads(qc(app, "completeness", "SPINS", "--incomplete", "--json").output)
    assert [(v["subject"], v["missing"]) for v in incomplete["visits"]] == [
        ("SPINS_CMH_0002", {"DTI": 1})]


def test_completeness_of_an_unknown_dataset_is_exit_code_2(app, seeded):
    result = qc(app, "completeness", "NOPE")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(
        "Error: Invalid value for 'DATASET': no dataset 'NOPE' (known: ")


def test_review_sets_the_state_and_the_history_keeps_every_review(app, spins, session):
    image_id = session.scalar(select(Image.id).order_by(Image.id))
    refused = qc(app, "review", str(image_id), "flag", "--reviewer", "ana")
    assert (refused.exit_code, refused.output) == (
        2, "Error: flag needs a comment saying why\n")
    assert qc(app, "review", str(image_id), "blacklist", "--comment", "motion",
              "--reviewer", "ana").output == f"image {image_id}: blacklisted\n"
    assert qc(app, "review", str(image_id), "reset", "--reviewer", "ben").exit_code == 0
    session.expire_all()
    assert session.get(Image, image_id).qc_state is QcState.NEW
    lines = [line.split("\t")[1:] for line in qc(app, "history", str(image_id)).output.splitlines()]
    assert lines == [["blacklisted", "ana", "motion"], ["new", "ben", ""]]
    assert qc(app, "review", "999999", "reset", "--reviewer", "ana").exit_code == 2
