"""Notice keys, the insert that never makes a second notice, and the outcome notice of a correction.

A notice key names what a notice is about, so that the same thing is never told twice: the
database keeps ``(recipient_id, notice_key)`` unique, and every insert here is
``INSERT ... ON CONFLICT DO NOTHING`` on that pair.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.common.clock import utc_now
from services.registry.models import Recipient
from services.registry.outreach.models import CORRECTION_OUTCOME, Notice, NoticeStatus
from services.registry.outreach.quiet_hours import zone_of_nik
from services.registry.outreach.templates import CORRECTION_RESULT, LANGUAGE, TEMPLATES, clean_parameter

REFERENCE_BYTES = 9  # 12 URL-safe characters: 72 bits, not guessable, short enough for a payload


def new_reference() -> str:
    return secrets.token_urlsafe(REFERENCE_BYTES)


def appointment_reminder_key(appointment_id: int, days: int) -> str:
    """One reminder per appointment and lead time (a 3-day and a 1-day reminder are two notices)."""
    return f"appointment:{appointment_id}:in{days}d"


def dose_due_key(appointment_id: int) -> str:
    """One overdue notice per missed appointment."""
    return f"overdue:{appointment_id}"


def certificate_key(dose_number: int) -> str:
    """One certificate notice per latest dose: a later dose makes a new certificate."""
    return f"certificate:dose{dose_number}"


def correction_outcome_key(reference: str) -> str:
    return f"correction:{reference}"


def correction_outcome_parameters(reference: str, approved: bool, reason: str | None) -> list[str]:
    """The parameters of ``hasil_koreksi_data`` for a decided correction request."""
    if approved:
        return [reference, "disetujui", "Data Anda di registri sudah diperbarui."]
    return [reference, "ditolak", f"Alasan: {clean_parameter(reason or '-')}."]


def insert_notices(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert, leaving out any whose (recipient, key) exists already; nothing is updated."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Notice).on_conflict_do_nothing(index_elements=["recipient_id", "notice_key"])
    session.execute(statement, list(rows))


def notice_row(
    *,
    recipient_id: int,
    nik: str,
    notice_key: str,
    kind: str,
    template: str,
    parameters: list[str],
    now: datetime,
    campaign_id: int | None = None,
    appointment_id: int | None = None,
) -> dict[str, Any]:
    """One row for ``insert_notices``: queued, a fresh reference, the zone from the NIK."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise ValueError(f"unknown template {template!r}")
    if len(parameters) != len(spec.parameters):
        raise ValueError(f"{template} takes {len(spec.parameters)} parameters")
    return {
        "reference": new_reference(),
        "campaign_id": campaign_id,
        "recipient_id": recipient_id,
        "appointment_id": appointment_id,
        "notice_key": notice_key,
        "kind": kind,
        "template": template,
        "language": LANGUAGE,
        "parameters": [clean_parameter(value) for value in parameters],
        "zone": zone_of_nik(nik),
        "status": NoticeStatus.QUEUED.value,
        "attempts": 0,
        "created_at": now,
    }


def queue_outcome_notice(
    session: Session,
    recipient_id: int,
    notice_key: str,
    template: str,
    parameters: list[str],
    *,
    now: datetime | None = None,
) -> bool:
    """Queue a notice outside any campaign (a correction's outcome), in the caller's transaction.

    Workers send it like a campaign's, opt-outs and quiet hours included. False when this recipient
    already has a notice under ``notice_key`` (nothing is queued twice) or no longer exists.
    """
    nik = session.scalar(select(Recipient.nik).where(Recipient.id == recipient_id))
    if nik is None:
        return False
    exists = session.scalar(
        select(Notice.id).where(Notice.recipient_id == recipient_id, Notice.notice_key == notice_key)
    )
    if exists is not None:
        return False
    kind = CORRECTION_OUTCOME if template == CORRECTION_RESULT.name else template
    row = notice_row(
        recipient_id=recipient_id,
        nik=nik,
        notice_key=notice_key,
        kind=kind,
        template=template,
        parameters=parameters,
        now=now or utc_now(),
    )
    insert_notices(session, [row])
    return True
