"""load_db/engine/manifest.py: comparing a listing with the last load's, by path and version;
soft-deleting the images of gone files."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import ImageMeasure
from load_db.engine.manifest import compare_listing, mark_images_deleted
from tests.support.factories import make_assessment, make_image, make_visit

PREVIOUS = {"participants.tsv": "10:1", "sub-01/anat/a.json": "5:1",
            "sub-02/anat/b.json": "5:1", "sub-03/anat/c.nii.gz": None}


@pytest.mark.parametrize(("current", "changed", "gone"), [
    (PREVIOUS | {"sub-03/anat/c.nii.gz": "7:1"}, {"sub-03/anat/c.nii.gz"}, set()),
    ({**PREVIOUS, "sub-03/anat/c.nii.gz": "7:1", "sub-01/anat/a.json": "5:2"},
     {"sub-01/anat/a.json", "sub-03/anat/c.nii.gz"}, set()),
    ({key: value for key, value in PREVIOUS.items() if key != "sub-02/anat/b.json"}
     | {"sub-03/anat/c.nii.gz": "7:1"}, {"sub-03/anat/c.nii.gz"}, {"sub-02/anat/b.json"}),
    ({**PREVIOUS, "sub-03/anat/c.nii.gz": "7:1", "sub-04/anat/d.json": "1:1"},
     {"sub-03/anat/c.nii.gz", "sub-04/anat/d.json"}, set()),
    # a version that was not trusted (None) is read again, even when still None
    (PREVIOUS, {"sub-03/anat/c.nii.gz"}, set()),
])
def test_compare_listing_finds_changed_and_gone_files(current, changed, gone):
    changes = compare_listing(PREVIOUS, current)
    assert (set(changes.changed), set(changes.gone)) == (changed, gone)
    assert changes.unchanged == len(current) - len(changed)


def test_soft_deleting_images_by_path_keeps_image_measure_s_copy_of_it(app, session):
    # A bulk UPDATE, beside the ORM: image_measure's copy of deleted_at must follow it too.
    visit = make_visit(session)
    gone, kept = (make_image(session, subject=visit.subject, visit=visit, path=path)
                  for path in ("gone.nii.gz", "kept.nii.gz"))
    make_assessment(session, visit=visit, value=21.0)
    session.commit()

    def deleted() -> dict[int, bool]:
        session.expire_all()
        return {image: at is not None for image, at in session.execute(
            select(ImageMeasure.image_id, ImageMeasure.deleted_at))}

    assert deleted() == {gone.id: False, kept.id: False}
    assert mark_images_deleted(session, gone.dataset_id, ["gone.nii.gz"]) == 1
    assert deleted() == {gone.id: True, kept.id: False}
    assert mark_images_deleted(session, gone.dataset_id, ["gone.nii.gz"], deleted=False) == 1
    assert deleted() == {gone.id: False, kept.id: False}
