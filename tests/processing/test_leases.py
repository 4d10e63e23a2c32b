"""Claims with leases, one call at a time: who gets what, renewals, completion, failures."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Claim, ClaimState, Image, ImageType, PreprocessState
from app.processing import LeaseLost, claim, complete, fail, progress, renew
from tests.support.factories import make_image, make_subject


@pytest.fixture
def images(session):
    """Three images: two of one subject (T1, DWI), one T1 of another; committed."""
    first, second = make_subject(session), make_subject(session)
    rows = [make_image(session, subject=first), make_image(session, subject=first,
                                                           type=ImageType.DWI),
            make_image(session, subject=second)]
    session.commit()
    return rows


def states_of(session, images):
    session.expire_all()
    return [image.preprocessed for image in images]


def test_claims_never_overlap_and_lock_their_images(session, images):
    first = claim(session, "mask", "w1", limit=2)
    session.commit()
    second = claim(session, "mask", "w2", limit=2)
    session.commit()
    assert [lease.image_id for lease in first] == [images[0].id, images[1].id]
    assert [lease.image_id for lease in second] == [images[2].id]
    assert first[0].lease_token == first[1].lease_token != second[0].lease_token
    assert claim(session, "mask", "w3", limit=2) == []
    assert states_of(session, images) == [PreprocessState.LOCKED] * 3
    # Another task has its own queue.
    assert len(claim(session, "normalise", "w1", limit=5)) == 3


def test_complete_once_by_the_holder(session, images):
    lease = claim(session, "mask", "w1")[0]
    session.commit()
    with pytest.raises(LeaseLost):
        complete(session, lease.claim_id, "not-the-token")
    session.rollback()
    done = complete(session, lease.claim_id, lease.lease_token)
    session.commit()
    assert done.state == ClaimState.DONE
    with pytest.raises(LeaseLost):
        complete(session, lease.claim_id, lease.lease_token)
    session.rollback()
    assert states_of(session, images)[0] == PreprocessState.MINIMAL
    assert progress(session, "mask") == {"pending": 2, "leased": 0, "done": 1, "failed": 0}


def test_renew_extends_and_an_expired_lease_is_taken_again(session, images):
    lease = claim(session, "mask", "w1", lease_seconds=60)[0]
    renewed = renew(session, lease.claim_id, lease.lease_token, lease_seconds=120)
    session.commit()
    assert renewed.lease_expires_at > lease.lease_expires_at
    # A lease that has already run out (negative length): the next claim takes it again.
    renew(session, lease.claim_id, lease.lease_token, lease_seconds=-1)
    session.commit()
    again = claim(session, "mask", "w2")[0]
    session.commit()
    assert (again.claim_id, again.image_id, again.attempts) == (lease.claim_id, images[0].id, 2)
    # The first worker comes back too late: its token no longer holds the claim.
    for late_call in (lambda: renew(session, lease.claim_id, lease.lease_token),
                      lambda: complete(session, lease.claim_id, lease.lease_token),
                      lambda: fail(session, lease.claim_id, lease.lease_token, "late")):
        with pytest.raises(LeaseLost):
            late_call()
        session.rollback()
    complete(session, again.claim_id, again.lease_token)
    session.commit()


def test_failures_are_retried_then_final(session, images):
    lease = claim(session, "mask", "w1")[0]
    released = fail(session, lease.claim_id, lease.lease_token, "out of memory", max_failures=2)
    session.commit()
    assert released.state == ClaimState.PENDING
    assert states_of(session, images)[0] == PreprocessState.NONE
    retry = claim(session, "mask", "w2")[0]
    assert retry.claim_id == lease.claim_id
    final = fail(session, retry.claim_id, retry.lease_token, "out of memory again",
                 max_failures=2)
    session.commit()
    assert final.state == ClaimState.FAILED
    assert states_of(session, images)[0] == PreprocessState.FAILED
    row = session.get(Claim, lease.claim_id)
    assert (row.failures, row.attempts, row.last_error) == (2, 2, "out of memory again")
    # Failed for good: never handed out again.
    assert [lease.image_id for lease in claim(session, "mask", "w3", limit=5)] == [
        images[1].id, images[2].id]


def test_candidates_restrict_the_claim(session, images):
    dwi_only = select(Image.id).where(Image.type == ImageType.DWI)
    leases = claim(session, "mask", "w1", limit=5, candidates=dwi_only)
    session.commit()
    assert [lease.image_id for lease in leases] == [images[1].id]
    assert session.scalar(select(Claim.id).where(Claim.image_id == images[0].id)) is None


def test_a_subject_claim_covers_all_its_images(session, images):
    leases = claim(session, "longitudinal", "w1", limit=1, per_subject=True)
    session.commit()
    assert [(lease.subject_id, lease.image_id) for lease in leases] == [
        (images[0].subject_id, None)]
    assert states_of(session, images) == [PreprocessState.LOCKED, PreprocessState.LOCKED,
                                          PreprocessState.NONE]
    complete(session, leases[0].claim_id, leases[0].lease_token)
    session.commit()
    assert states_of(session, images)[:2] == [PreprocessState.MINIMAL] * 2
    rest = claim(session, "longitudinal", "w2", limit=5, per_subject=True)
    assert [lease.subject_id for lease in rest] == [images[2].subject_id]
