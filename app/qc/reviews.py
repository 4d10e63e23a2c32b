"""QC reviews of images: sign off, flag, blacklist or reset one, keeping every review in its
history. Shared by the API (app/api/qc.py) and `flask qc`. Blacklisted images then leave the
queries of API requests (app/qc/hidden.py).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Image, QcReview, QcState

# What each review action sets, and whether it needs a comment.
REVIEW_ACTIONS = {
    "sign_off": (QcState.SIGNED_OFF, False),
    "flag": (QcState.FLAGGED, True),
    "blacklist": (QcState.BLACKLISTED, True),
    "reset": (QcState.NEW, False),
}


class ReviewError(ValueError):
    """A review that cannot be recorded (e.g. a flag without a comment)."""


def review_image(session: Session, image: Image, action: str, author: str,
                 comment: str | None = None) -> QcReview:
    """Record one review of `image` (kept in its history) and set its QC state. Never commits.

    A flag needs a comment, a blacklisting a reason (the comment).
    """
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"unknown action {action!r} (one of {', '.join(REVIEW_ACTIONS)})")
    state, needs_comment = REVIEW_ACTIONS[action]
    comment = (comment or "").strip() or None
    if needs_comment and comment is None:
        raise ReviewError(f"{action} needs a comment saying why")
    review = QcReview(image_id=image.id, state=state, comment=comment, author=author)
    session.add(review)
    image.qc_state = state
    session.flush()
    return review


def review_history(session: Session, image_id: int) -> list[QcReview]:
    """Every review of an image, oldest first."""
    return list(session.scalars(select(QcReview).where(QcReview.image_id == image_id)
                                .order_by(QcReview.reviewed_at, QcReview.id)))
