"""The audit trail of lookups: enough to investigate abuse, nothing that identifies a person."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session

from services.registry.models import AuditEntry

UNAUTHENTICATED_CALLER = "unauthenticated"


class Outcome(str, Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # unknown NIK or wrong birth date: deliberately one outcome
    LOCKED = "locked"
    UNAUTHORISED = "unauthorised"
    INVALID_REQUEST = "invalid_request"
    CODE_SENT = "code_sent"  # NIK and birth date matched on WhatsApp, from another number
    CODE_NOT_SENT = "code_not_sent"
    WRONG_CODE = "wrong_code"
    CODE_ENDED = "code_ended"  # expired, used, replaced, out of attempts, or not this conversation's


def record_lookup(
    session: Session,
    *,
    at: datetime,
    caller: str,
    client_host: str | None,
    outcome: Outcome,
    nik_hash: str | None = None,
    conversation_hash: str | None = None,
) -> None:
    """Add an audit row to the caller's transaction."""
    session.add(
        AuditEntry(
            occurred_at=at,
            caller=caller,
            client_host=client_host,
            nik_hash=nik_hash,
            conversation_hash=conversation_hash,
            outcome=outcome.value,
        )
    )
