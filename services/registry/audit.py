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
    # Recipients' requests (services/registry/requests.py); at most 20 characters, like the column.
    RECORD_TOKEN_REFUSED = "record_token_refused"  # forged, expired or another conversation's
    CORRECTION_REQUESTED = "correction_requested"
    CORRECTION_DUPLICATE = "correction_duplicate"  # one is already pending for that field
    CORRECTION_APPROVED = "correction_approved"  # caller: the officer (X-Staff-User)
    CORRECTION_REJECTED = "correction_rejected"
    KIPI_REPORTED = "kipi_reported"
    KIPI_TRIAGED = "kipi_triaged"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    STAFF_READ = "staff_read"  # an officer listed corrections, KIPI reports or opt-outs


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
