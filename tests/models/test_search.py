"""The image search read model: its columns follow the image's subject, visit and scanner."""
import pytest
from sqlalchemy import select

from app.models import Image, Sex
from app.models.search import refresh_image_search
from tests.support.factories import (
    make_condition,
    make_image,
    make_scanner,
    make_subject,
    make_visit,
)


def search_row(session, image_id):
    session.expire_all()
    return session.execute(
        select(Image.search_condition_id, Image.search_sex, Image.search_age_at_scan,
               Image.search_field_strength, Image.search_manufacturer)
        .where(Image.id == image_id)).one()


def test_every_orm_write_of_a_subject_visit_or_scanner_refreshes_its_images(session):
    own, diagnosed = make_condition(session), make_condition(session)
    subject = make_subject(session, sex=Sex.FEMALE, age_at_baseline=60.0, condition_id=own.id)
    visit = make_visit(session, subject=subject, days_since_baseline=365, condition=diagnosed)
    scanner = make_scanner(session, dataset=subject.dataset, manufacturer="SIEMENS",
                           field_strength=3.0)
    image = make_image(session, subject=subject, visit=visit, scanner=scanner,
                       days_since_baseline=None)
    session.commit()
    assert search_row(session, image.id) == (
        diagnosed.id, Sex.FEMALE, pytest.approx(60 + 365 / 365.25), 3.0, "siemens")

    subject.sex = Sex.MALE
    visit.condition_id = None           # no diagnosis at the visit: the subject's condition
    visit.days_since_baseline = 730     # the scan day is the visit's: the age follows
    scanner.field_strength = 1.5
    session.commit()
    assert search_row(session, image.id) == (
        own.id, Sex.MALE, pytest.approx(60 + 730 / 365.25), 1.5, "siemens")

    image.days_since_baseline = 0       # the image's own day wins over its visit's
    image.visit_id = None
    session.commit()
    assert search_row(session, image.id) == (own.id, Sex.MALE, 60.0, 1.5, "siemens")


def test_refresh_repairs_stale_copies_and_writes_only_rows_that_differ(session):
    subject = make_subject(session, sex=Sex.OTHER, age_at_baseline=None)
    images = [make_image(session, subject=subject) for _ in range(3)]
    session.commit()
    assert refresh_image_search(session, subject.dataset_id) == 0
    session.execute(Image.__table__.update().where(Image.id == images[0].id)
                    .values(search_sex="female"))
    assert refresh_image_search(session, subject.dataset_id) == 1
    assert refresh_image_search(session) == 0
    session.commit()
    assert search_row(session, images[0].id) == (None, Sex.OTHER, None, None, None)
