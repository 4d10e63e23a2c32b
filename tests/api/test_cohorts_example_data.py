"""Over the bundled example data: a cohort's diff after one more dataset is loaded names exactly
the new images, and its manifest's SHA-256 is the same on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from app.models import Dataset, Image, ImageType, Scope
from tests.support.examples import flask_load
from tests.support.factories import bearer, make_api_key

API = "/api/v1"
# SHA-256 of the canonical manifest of every T1 of OASIS and OpenPain (44 images): the same on
# every database, since the canonical text holds no database id.
T1_OASIS_OPENPAIN_SHA256 = "7973cd1c267b36a11546c18375e530115683421adaa8d6709bcb0792b7a2d06d"


def test_diff_after_loading_hcp_names_exactly_its_images_and_the_sha_is_stable(
        app, client, session):
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    for designation in ("OASIS", "OpenPain"):
        assert flask_load(app, designation).exit_code == 0
    _, token = make_api_key(session, name="researcher", scopes=[Scope.READ, Scope.WRITE])
    session.commit()
    headers = bearer(token)

    cohort = client.post(f"{API}/cohorts", json={"name": "all T1", "query": {"type": "T1"}},
                         headers=headers).get_json()
    assert cohort["image_count"] == 44
    assert cohort["manifest_sha256"] == T1_OASIS_OPENPAIN_SHA256

    assert flask_load(app, "HCP").exit_code == 0
    hcp_t1 = session.scalars(
        select(Image.id).join(Dataset, Dataset.id == Image.dataset_id)
        .where(Dataset.designation == "HCP", Image.type == ImageType.T1).order_by(Image.id)).all()
    assert len(hcp_t1) == 11
    diff = client.get(f"{API}/cohorts/{cohort['id']}/diff", headers=headers).get_json()
    assert [row["image_id"] for row in diff["added"]] == hcp_t1
    assert {row["dataset"] for row in diff["added"]} == {"HCP"}
    assert (diff["removed"], diff["changed"], diff["unchanged"]) == ([], [], 44)

    # Frozen is frozen: the manifest still holds the 44 images and the same SHA-256.
    manifest = client.get(f"{API}/cohorts/{cohort['id']}/manifest", headers=headers).get_json()
    assert len(manifest["items"]) == 44
    assert manifest["manifest_sha256"] == T1_OASIS_OPENPAIN_SHA256
