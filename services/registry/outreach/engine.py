"""Planning, claiming, sending and reporting a campaign: the rules that keep outreach exactly-once-ish.

**Never the same notice twice.** Planning inserts one notice per audience entry with
``INSERT ... ON CONFLICT (recipient_id, notice_key) DO NOTHING``: a rerun, a second planner or a
crash halfway plans nothing twice. Sending claims each notice first, in one statement
(``queued`` → ``sending``, with a lease and an attempt count; on PostgreSQL the rows are picked
``FOR UPDATE SKIP LOCKED``, on SQLite every write transaction is ``BEGIN IMMEDIATE`` so the
conditional UPDATE is atomic): two workers never hold one notice. The result is written right
after Meta answers, under the same claim.

**A crash mid-send.** A notice claimed and not confirmed stays ``sending``; when its lease runs out
a worker claims it again and sends it. That can deliver it twice, but only the notices that were in
flight when the worker died (at most ``concurrency`` of them, sent and not yet confirmed): Meta's
Cloud API has no idempotency key, so nobody can ask it whether a message went out. Leaving them
unsent instead would silently drop reminders, which is worse for a dose reminder than one repeat.
The lease is long (10 minutes) so that a worker that is only slow (a long 429 backoff) is never
taken for dead: a live worker's notice is never claimed by another.

**Skipped, deferred, failed.** Opted-out conversations (checked as the notice is claimed, so an
opt-out after planning still counts) and numbers that cannot have WhatsApp are skipped; a notice
whose recipient is in quiet hours is not skipped but waits (stays ``queued`` with ``not_before``)
and is not even claimed while its zone is quiet; Meta's refusals fail it with Meta's error code.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core.sender_identity import conversation_id, message_key
from services.registry.hashing import conversation_hash
from services.registry.models import OptOut, Recipient
from services.registry.outreach.audiences import audience
from services.registry.outreach.graph_client import NOT_ON_WHATSAPP, GaveUp, Refused, SendResult, Sent
from services.registry.outreach.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Notice,
    NoticeStatus,
    SkipReason,
)
from services.registry.outreach.notices import insert_notices, notice_row
from services.registry.outreach.quiet_hours import QuietHours, zone_of_nik
from services.registry.outreach.templates import (
    APPOINTMENT_REMINDER,
    CERTIFICATE_READY,
    DOSE_DUE,
    TEMPLATES,
    template_message,
)

log = logging.getLogger(__name__)

# The template each kind of campaign sends.
KIND_TEMPLATES = {
    CampaignKind.APPOINTMENT_REMINDER: APPOINTMENT_REMINDER.name,
    CampaignKind.DOSE_DUE: DOSE_DUE.name,
    CampaignKind.CERTIFICATE_READY: CERTIFICATE_READY.name,
}
# Claims of one notice before it fails for good (a notice that keeps a worker from finishing).
MAX_ATTEMPTS = 5
# A number that can have WhatsApp here: an Indonesian mobile number (+62 8...).
_MOBILE = re.compile(r"\+628\d{7,12}")
_INSERT_CHUNK = 1_000
_IN_CHUNK = 500


@dataclass(frozen=True)
class SendContext:
    """What sending needs besides the database: the keys that turn a number into a conversation."""

    audit_hash_key: str
    sender_hash_key: str
    quiet_hours: QuietHours
    lease_seconds: int

    def conversation_hash_of(self, phone: str) -> str:
        """The registry's hash of the conversation this number's WhatsApp chat has (see opt_outs)."""
        return conversation_hash(self.audit_hash_key, conversation_id(phone, self.sender_hash_key))


@dataclass(frozen=True)
class Task:
    """A claimed notice, ready to send."""

    notice_id: int
    reference: str
    template: str
    parameters: list[str]
    zone: str
    attempts: int
    phone: str
    conversation_hash: str

    def message(self) -> dict[str, Any]:
        return template_message(self.phone, TEMPLATES[self.template], self.parameters, self.reference)


@dataclass
class Counts:
    """A campaign's report, or what a dry run expects."""

    due: int = 0
    sent: int = 0
    pending: int = 0
    deferred: int = 0  # of pending: waiting for quiet hours to end
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)


# --- planning --------------------------------------------------------------------------------------


def create_campaign(
    session: Session, *, name: str, kind: CampaignKind, days: int | None, created_by: str, now: datetime
) -> Campaign:
    campaign = Campaign(
        name=name,
        kind=kind.value,
        days=days,
        template=KIND_TEMPLATES[kind],
        language="id",
        status=CampaignStatus.DRAFT.value,
        created_by=created_by,
        created_at=now,
        due=0,
        already_notified=0,
    )
    session.add(campaign)
    session.flush()
    return campaign


def plan(session: Session, campaign: Campaign, today: date, now: datetime) -> int:
    """Insert the campaign's notices (none twice), mark it running; the caller commits. Returns the due count.

    One transaction: a crash halfway leaves nothing planned, and planning again is safe anyway.
    """
    entries = list(audience(session, CampaignKind(campaign.kind), campaign.days, today))
    for start in range(0, len(entries), _INSERT_CHUNK):
        rows = [
            notice_row(
                recipient_id=entry.recipient_id,
                nik=entry.nik,
                notice_key=entry.notice_key,
                kind=campaign.kind,
                template=campaign.template,
                parameters=entry.parameters,
                now=now,
                campaign_id=campaign.id,
                appointment_id=entry.appointment_id,
            )
            for entry in entries[start : start + _INSERT_CHUNK]
        ]
        insert_notices(session, rows)
    planned = session.scalar(
        select(func.count()).select_from(Notice).where(Notice.campaign_id == campaign.id)
    )
    campaign.due = len(entries)
    campaign.already_notified = len(entries) - (planned or 0)
    campaign.status = CampaignStatus.RUNNING.value
    campaign.started_at = campaign.started_at or now
    session.flush()
    return len(entries)


def queued_ids(session: Session, campaign_id: int) -> list[int]:
    """The campaign's notices still waiting, for the queue."""
    query = select(Notice.id).where(
        Notice.campaign_id == campaign_id, Notice.status == NoticeStatus.QUEUED.value
    )
    return list(session.scalars(query.order_by(Notice.id)))


def dry_run(session: Session, campaign: Campaign, context: SendContext, today: date, now: datetime) -> Counts:
    """What starting the campaign now would do: nothing is written and nothing is sent."""
    entries = list(audience(session, CampaignKind(campaign.kind), campaign.days, today))
    opted_out = set(session.scalars(select(OptOut.conversation_hash).where(OptOut.opted_out_at.is_not(None))))
    existing: set[tuple[int, str]] = set()
    recipients = sorted({entry.recipient_id for entry in entries})
    for start in range(0, len(recipients), _IN_CHUNK):
        query = select(Notice.recipient_id, Notice.notice_key).where(
            Notice.recipient_id.in_(recipients[start : start + _IN_CHUNK])
        )
        existing.update((row[0], row[1]) for row in session.execute(query))
    counts = Counts(due=len(entries))
    skipped: Counter[str] = Counter()
    for entry in entries:
        if (entry.recipient_id, entry.notice_key) in existing:
            skipped[SkipReason.ALREADY_NOTIFIED.value] += 1
        elif not _MOBILE.fullmatch(entry.phone):
            skipped[SkipReason.NO_WHATSAPP_NUMBER.value] += 1
        elif context.conversation_hash_of(entry.phone) in opted_out:
            skipped[SkipReason.OPTED_OUT.value] += 1
        else:
            counts.pending += 1
            if context.quiet_hours.is_quiet(zone_of_nik(entry.nik), now):
                counts.deferred += 1
    counts.skipped = dict(skipped)
    return counts


# --- claiming and sending --------------------------------------------------------------------------


def _claimable(now: datetime, awake_zones: Sequence[str]) -> Any:
    running = select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING.value)
    return and_(
        or_(
            and_(
                Notice.status == NoticeStatus.QUEUED.value,
                or_(Notice.not_before.is_(None), Notice.not_before <= now),
            ),
            and_(Notice.status == NoticeStatus.SENDING.value, Notice.lease_until < now),
        ),
        Notice.zone.in_(list(awake_zones)),
        or_(Notice.campaign_id.is_(None), Notice.campaign_id.in_(running)),
    )


def claim(
    session: Session,
    context: SendContext,
    worker_id: str,
    now: datetime,
    *,
    limit: int,
    notice_ids: Sequence[int] | None = None,
) -> list[Task]:
    """Claim up to ``limit`` sendable notices (of ``notice_ids``, or any), commit, and return them.

    In the same transaction, a claimed notice whose conversation opted out, or whose number cannot
    have WhatsApp, is skipped, and one claimed too often fails: what is returned is to be sent.
    """
    awake = context.quiet_hours.awake_zones(now)
    if not awake:
        return []
    picked = select(Notice.id).where(_claimable(now, awake))
    if notice_ids is not None:
        picked = picked.where(Notice.id.in_(list(notice_ids)))
    picked = picked.order_by(Notice.id).limit(limit).with_for_update(skip_locked=True)
    claimed = session.execute(
        update(Notice)
        .where(Notice.id.in_(picked.scalar_subquery()), _claimable(now, awake))
        .values(
            status=NoticeStatus.SENDING.value,
            lease_until=now + timedelta(seconds=context.lease_seconds),
            attempts=Notice.attempts + 1,
            claimed_by=worker_id,
        )
        .returning(
            Notice.id,
            Notice.recipient_id,
            Notice.reference,
            Notice.template,
            Notice.parameters,
            Notice.zone,
            Notice.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        session.commit()
        return []
    phones = dict(
        session.execute(
            select(Recipient.id, Recipient.phone).where(
                Recipient.id.in_({row.recipient_id for row in claimed})
            )
        ).all()
    )
    hashes = {row.id: context.conversation_hash_of(phones[row.recipient_id]) for row in claimed}
    opted_out = set(
        session.scalars(
            select(OptOut.conversation_hash).where(
                OptOut.conversation_hash.in_(set(hashes.values())), OptOut.opted_out_at.is_not(None)
            )
        )
    )
    tasks: list[Task] = []
    for row in claimed:
        phone = phones[row.recipient_id]
        if hashes[row.id] in opted_out:
            _finish(
                session,
                row.id,
                worker_id,
                now,
                NoticeStatus.SKIPPED,
                SkipReason.OPTED_OUT.value,
                hashes[row.id],
            )
        elif not _MOBILE.fullmatch(phone):
            _finish(
                session, row.id, worker_id, now, NoticeStatus.SKIPPED, SkipReason.NO_WHATSAPP_NUMBER.value
            )
        elif row.attempts > MAX_ATTEMPTS:
            _finish(session, row.id, worker_id, now, NoticeStatus.FAILED, "too_many_attempts")
        else:
            tasks.append(
                Task(
                    row.id,
                    row.reference,
                    row.template,
                    list(row.parameters),
                    row.zone,
                    row.attempts,
                    phone,
                    hashes[row.id],
                )
            )
    session.commit()
    return tasks


def _finish(
    session: Session,
    notice_id: int,
    worker_id: str,
    now: datetime,
    status: NoticeStatus,
    reason: str | None,
    conversation: str | None = None,
    message: str | None = None,
) -> bool:
    """Write a claimed notice's outcome, only while this worker still holds it."""
    result = session.execute(
        update(Notice)
        .where(
            Notice.id == notice_id,
            Notice.status == NoticeStatus.SENDING.value,
            Notice.claimed_by == worker_id,
        )
        .values(
            status=status.value,
            reason=reason,
            conversation_hash=conversation,
            message_key=message,
            finished_at=now,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _release(session: Session, notice_id: int, worker_id: str, not_before: datetime) -> None:
    """Give a claimed notice back to the queue, to be tried from ``not_before`` on."""
    session.execute(
        update(Notice)
        .where(
            Notice.id == notice_id,
            Notice.status == NoticeStatus.SENDING.value,
            Notice.claimed_by == worker_id,
        )
        .values(status=NoticeStatus.QUEUED.value, not_before=not_before, lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )


def deferred_until(task: Task, context: SendContext, now: datetime) -> datetime | None:
    """When quiet hours end for this task's recipient, if they are on now."""
    return (
        context.quiet_hours.ends_at(task.zone, now) if context.quiet_hours.is_quiet(task.zone, now) else None
    )


def record_result(
    session: Session,
    context: SendContext,
    task: Task,
    worker_id: str,
    result: SendResult,
    now: datetime,
    retry_after_seconds: float,
) -> str:
    """Write what Meta answered, under this worker's claim, and commit. Returns the outcome's name."""
    if isinstance(result, Sent):
        key = message_key(result.message_id, context.sender_hash_key)
        _finish(session, task.notice_id, worker_id, now, NoticeStatus.SENT, None, task.conversation_hash, key)
        outcome = "sent"
    elif isinstance(result, Refused) and result.code == NOT_ON_WHATSAPP:
        reason = SkipReason.NO_WHATSAPP_NUMBER.value
        _finish(session, task.notice_id, worker_id, now, NoticeStatus.SKIPPED, reason, task.conversation_hash)
        outcome = "skipped"
    elif isinstance(result, Refused):
        _finish(
            session,
            task.notice_id,
            worker_id,
            now,
            NoticeStatus.FAILED,
            result.reason,
            task.conversation_hash,
        )
        outcome = "failed"
    else:
        assert isinstance(result, GaveUp)
        if task.attempts >= MAX_ATTEMPTS:
            _finish(session, task.notice_id, worker_id, now, NoticeStatus.FAILED, result.reason)
            outcome = "failed"
        else:
            _release(session, task.notice_id, worker_id, now + timedelta(seconds=retry_after_seconds))
            outcome = "retry_later"
    session.commit()
    return outcome


def defer(session: Session, task: Task, worker_id: str, until: datetime) -> None:
    """Quiet hours began between claim and send: the notice waits for them to end."""
    _release(session, task.notice_id, worker_id, until)
    session.commit()


# --- campaign state and reports --------------------------------------------------------------------


def finish_campaigns(session: Session, now: datetime) -> int:
    """Mark running campaigns with nothing queued or in flight as done; commits. Returns how many."""
    waiting = select(Notice.id).where(
        Notice.campaign_id == Campaign.id,
        Notice.status.in_([NoticeStatus.QUEUED.value, NoticeStatus.SENDING.value]),
    )
    result = session.execute(
        update(Campaign)
        .where(Campaign.status == CampaignStatus.RUNNING.value, ~waiting.exists())
        .values(status=CampaignStatus.DONE.value, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def pending_now(session: Session, quiet_hours: QuietHours, now: datetime) -> int:
    """Notices a worker could send now or that are in flight (anyone's): the worker's to-do.

    Notices waiting for quiet hours to end, or for a later retry, are not counted: ``worker
    --until-idle`` exits without them, and a later run (the next morning) sends them.
    """
    running = select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING.value)
    sendable = and_(
        Notice.status == NoticeStatus.QUEUED.value,
        Notice.zone.in_(quiet_hours.awake_zones(now)),
        or_(Notice.not_before.is_(None), Notice.not_before <= now),
    )
    query = (
        select(func.count())
        .select_from(Notice)
        .where(
            or_(sendable, Notice.status == NoticeStatus.SENDING.value),
            or_(Notice.campaign_id.is_(None), Notice.campaign_id.in_(running)),
        )
    )
    return session.scalar(query) or 0


def report(session: Session, campaign: Campaign, quiet_hours: QuietHours, now: datetime) -> Counts:
    """Counts from the notices themselves: sent, skipped and failed by reason, still pending."""
    counts = Counts(due=campaign.due)
    rows = session.execute(
        select(Notice.status, Notice.reason, Notice.zone, func.count())
        .where(Notice.campaign_id == campaign.id)
        .group_by(Notice.status, Notice.reason, Notice.zone)
    ).all()
    skipped: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for status, reason, zone, number in rows:
        if status == NoticeStatus.SENT.value:
            counts.sent += number
        elif status == NoticeStatus.SKIPPED.value:
            skipped[reason or "unknown"] += number
        elif status == NoticeStatus.FAILED.value:
            failed[reason or "unknown"] += number
        else:
            counts.pending += number
            if status == NoticeStatus.QUEUED.value and quiet_hours.is_quiet(zone, now):
                counts.deferred += number
    if campaign.already_notified:
        skipped[SkipReason.ALREADY_NOTIFIED.value] += campaign.already_notified
    counts.skipped = dict(skipped)
    counts.failed = dict(failed)
    return counts


def set_status(session: Session, campaign: Campaign, wanted: CampaignStatus, now: datetime) -> bool:
    """Pause a running campaign or resume a paused one; False when it is in another state."""
    allowed = {CampaignStatus.PAUSED: CampaignStatus.RUNNING, CampaignStatus.RUNNING: CampaignStatus.PAUSED}
    if campaign.status != allowed[wanted].value:
        return False
    campaign.status = wanted.value
    session.flush()
    return True
