"""Reading and recording answer revisions (review_content_revisions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.review.content_models import ContentRevision, RevisionStatus


def pending_by_response(db: Session) -> dict[str, ContentRevision]:
    """The edit waiting for approval per answer (at most one: a newer one supersedes it)."""
    rows = db.scalars(select(ContentRevision).where(ContentRevision.status == RevisionStatus.PENDING.value))
    return {row.response: row for row in rows}


def history(db: Session, response: str, limit: int = 50) -> list[ContentRevision]:
    return list(
        db.scalars(
            select(ContentRevision)
            .where(ContentRevision.response == response)
            .order_by(ContentRevision.id.desc())
            .limit(limit)
        )
    )


def get_revision(db: Session, revision_id: int) -> ContentRevision | None:
    return db.get(ContentRevision, revision_id)


def submit(db: Session, revision: ContentRevision, now: datetime) -> ContentRevision:
    """Records a new pending edit; an older pending edit of the same answer is superseded by it."""
    db.execute(
        update(ContentRevision)
        .where(
            ContentRevision.response == revision.response,
            ContentRevision.status == RevisionStatus.PENDING.value,
        )
        .values(status=RevisionStatus.SUPERSEDED.value, decided_by=revision.created_by, decided_at=now)
    )
    db.add(revision)
    db.flush()
    return revision


def decide(db: Session, revision: ContentRevision, status: RevisionStatus, by: str, now: datetime) -> None:
    revision.status = status.value
    revision.decided_by = by
    revision.decided_at = now
    db.flush()
