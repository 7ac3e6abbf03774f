"""What recipients ask for by chat, and the officers' decisions on it: the registry's domain rules.

- A **correction** is never applied when asked: it waits as a pending request for an officer,
  at most one per recipient and field (a partial unique index makes the database hold to that,
  also when two requests race). Approving a name or phone applies it to the record in the same
  transaction as the decision; a dose record is fixed by hand, so approving one only records it.
- A **KIPI report** is kept with the record when the conversation proved it is that person's
  (a record_token that opens), else anonymously by conversation: a report is never lost for want
  of a fresh identity check.
- **Opt-out/opt-in** is per conversation (the keyed hash of the sender id, so per WhatsApp number),
  idempotent, and read by the campaigns through :func:`is_opted_out`.

Every step writes the audit log (keyed hashes only, never a value). Text from outside is cleaned
with the project's one rule (core/text.py), and direction overrides are dropped as well: an officer
reads these values, and a right-to-left override would make them read differently from what they say.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.sender_identity import normalise_phone
from core.text import clean_text, without_direction_controls
from services.registry import messages
from services.registry.audit import Outcome, record_lookup
from services.registry.masking import mask_name, mask_phone
from services.registry.models import (
    CorrectionField,
    CorrectionRequest,
    CorrectionStatus,
    KipiReport,
    KipiSeverity,
    KipiStatus,
    OptOut,
    Recipient,
)
from services.registry.outreach.templates import CORRECTION_RESULT
from services.registry.phone import is_e164

CORRECTION_PREFIX = "KOR-"
KIPI_PREFIX = "KIPI-"
REFERENCE_LENGTH = 12  # the column's size; the rest of it is random hex
# The WhatsApp template that tells the recipient the outcome.
OUTCOME_TEMPLATE = CORRECTION_RESULT.name
NAME_MAX = 200
DOSE_MAX = 300
NOTE_MAX = 500
SYMPTOMS_MAX = 500
ONSET_MAX = 40
PLACE_MAX = 200
MOBILE_PREFIX = "628"  # Indonesian mobile numbers, in the 62… form
PHONE_DIGITS = range(10, 16)
_NAME_PUNCTUATION = frozenset(" '.-")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})
_PHONE_CHARACTERS = frozenset("0123456789+-(). ")
_INSERT_ATTEMPTS = 3
# The same KIPI report from the same conversation within this time is one report sent twice.
REPEAT_WINDOW = timedelta(minutes=10)  # a new random reference after a (vanishingly rare) clash
# Most urgent first, for the staff listing.
_SEVERITY_RANK = {KipiSeverity.BERAT.value: 0, KipiSeverity.SEDANG.value: 1, KipiSeverity.RINGAN.value: 2}


@dataclass(frozen=True)
class Context:
    """Who asks and when, for the audit row every step writes."""

    now: datetime
    caller: str
    client_host: str | None
    conversation_hash: str | None = None

    def audit(self, session: Session, outcome: Outcome) -> None:
        record_lookup(
            session,
            at=self.now,
            caller=self.caller,
            client_host=self.client_host,
            outcome=outcome,
            conversation_hash=self.conversation_hash,
        )


@dataclass(frozen=True)
class Created:
    reference: str
    message: str
    linked: bool = True


@dataclass(frozen=True)
class InvalidValue:
    field: str
    message: str


@dataclass(frozen=True)
class AlreadyPending:
    reference: str
    message: str


@dataclass(frozen=True)
class Unknown:
    message: str


@dataclass(frozen=True)
class Conflict:
    message: str


@dataclass(frozen=True)
class Decided:
    reference: str
    status: CorrectionStatus
    notified: bool
    message: str


@dataclass(frozen=True)
class Triaged:
    reference: str
    status: KipiStatus
    message: str


# --- Cleaning and checking values ---


def one_line(text: str) -> str:
    """Cleaned (core/text.py), without direction controls, whitespace runs as one space, trimmed."""
    return " ".join(without_direction_controls(text).split())


def multi_line(text: str) -> str:
    """Like :func:`one_line`, but line breaks stay (one per line, no empty lines)."""
    cleaned = without_direction_controls(text)
    lines = (" ".join(line.split()) for line in cleaned.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_name(value: str) -> str | None:
    """A name as on the KTP: letters of any script, spaces and . ' -; None when it is not one."""
    # Direction controls are refused here, not dropped: a name must read exactly as it is stored.
    name = " ".join(clean_text(value).split()).translate(_APOSTROPHES)
    if not 1 <= len(name) <= NAME_MAX or not any(character.isalpha() for character in name):
        return None
    if not all(character.isalpha() or character in _NAME_PUNCTUATION for character in name):
        return None
    return name


def clean_mobile(value: str) -> str | None:
    """An Indonesian mobile number (08…, 62… or +62…) in E.164, or None."""
    text = one_line(value)
    if not text or not set(text) <= _PHONE_CHARACTERS or "+" in text[1:]:
        return None
    digits = normalise_phone(text)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.startswith(MOBILE_PREFIX) or len(digits) not in PHONE_DIGITS:
        return None
    phone = "+" + digits
    return phone if is_e164(phone) else None


def _free_text(value: str | None, maximum: int) -> str | None:
    """Cleaned multi-line text, or None when nothing is left or it is too long."""
    if value is None:
        return None
    text = multi_line(value)
    return text if 1 <= len(text) <= maximum else None


def new_reference(prefix: str) -> str:
    """ "KOR-7F3A9C1D" / "KIPI-7F3A9C1": random, so a reference tells nothing and cannot be counted."""
    return prefix + secrets.token_hex(REFERENCE_LENGTH).upper()[: REFERENCE_LENGTH - len(prefix)]


# --- Corrections ---


def request_correction(
    session: Session,
    context: Context,
    *,
    recipient_id: int,
    field: CorrectionField,
    requested_value: str,
    note: str | None,
) -> Created | AlreadyPending | InvalidValue | Unknown:
    """A pending correction request, unless the value is not valid or one is pending for that field."""
    recipient = session.get(Recipient, recipient_id)
    if recipient is None:  # removed since the lookup: the same as a stale token
        return Unknown(messages.RECORD_SESSION_ENDED)
    checked = _check_requested(recipient, field, requested_value)
    if isinstance(checked, InvalidValue):
        return checked
    cleaned_note = None
    if note is not None and one_line(note):
        cleaned_note = _free_text(note, NOTE_MAX)
        if cleaned_note is None:
            return InvalidValue("note", messages.INVALID_NOTE)
    current = _current_masked(recipient, field)
    for _ in range(_INSERT_ATTEMPTS):
        pending = _pending(session, recipient_id, field)
        if (
            pending is not None
            and pending.requested_value == checked
            and pending.conversation_hash == (context.conversation_hash or "")
        ):  # the same request again (a retry or a replay): the same answer, nothing new stored
            return Created(pending.reference, messages.correction_received(field.value, pending.reference))
        if pending is not None:
            context.audit(session, Outcome.CORRECTION_DUPLICATE)
            session.commit()
            return AlreadyPending(
                pending.reference, messages.correction_pending(field.value, pending.reference)
            )
        reference = new_reference(CORRECTION_PREFIX)
        session.add(
            CorrectionRequest(
                reference=reference,
                recipient_id=recipient_id,
                field=field.value,
                current_masked=current,
                requested_value=checked,
                note=cleaned_note,
                status=CorrectionStatus.PENDING.value,
                created_at=context.now,
                conversation_hash=context.conversation_hash or "",
            )
        )
        try:
            session.flush()
        except IntegrityError:  # another request for this field won the race, or the reference clashed
            session.rollback()
            continue
        context.audit(session, Outcome.CORRECTION_REQUESTED)
        session.commit()
        return Created(reference, messages.correction_received(field.value, reference))
    raise RuntimeError("no correction reference could be stored")


def _check_requested(recipient: Recipient, field: CorrectionField, value: str) -> str | InvalidValue:
    if field is CorrectionField.NAME:
        name = clean_name(value)
        if name is None:
            return InvalidValue(field.value, messages.INVALID_NAME)
        if name.casefold() == " ".join(recipient.full_name.split()).casefold():
            return InvalidValue(field.value, messages.SAME_AS_ON_FILE)
        return name
    if field is CorrectionField.PHONE:
        phone = clean_mobile(value)
        if phone is None:
            return InvalidValue(field.value, messages.INVALID_PHONE)
        if normalise_phone(phone) == normalise_phone(recipient.phone):
            return InvalidValue(field.value, messages.SAME_AS_ON_FILE)
        return phone
    dose = _free_text(value, DOSE_MAX)
    return dose if dose is not None else InvalidValue(field.value, messages.INVALID_DOSE)


def _current_masked(recipient: Recipient, field: CorrectionField) -> str:
    """The value on file as the officer sees it next to the request: masked; doses as recorded."""
    if field is CorrectionField.NAME:
        return mask_name(recipient.full_name)
    if field is CorrectionField.PHONE:
        return mask_phone(recipient.phone)
    doses = "; ".join(
        f"Dosis {dose.dose_number}: {dose.vaccine_brand}, {dose.given_on.isoformat()}, {dose.facility}"
        for dose in recipient.doses
    )
    return (doses or "Belum ada dosis tercatat")[:200]


def _pending(session: Session, recipient_id: int, field: CorrectionField) -> CorrectionRequest | None:
    return session.scalar(
        select(CorrectionRequest).where(
            CorrectionRequest.recipient_id == recipient_id,
            CorrectionRequest.field == field.value,
            CorrectionRequest.status == CorrectionStatus.PENDING.value,
        )
    )


class OutcomeNotifier(Protocol):
    """Outreach's ``queue_outcome_notice``: queues a template notice in the caller's transaction.

    False when nothing was queued (that notice exists already, or the recipient is gone).
    """

    def __call__(
        self,
        session: Session,
        recipient_id: int,
        notice_key: str,
        template: str,
        parameters: list[str],
        *,
        now: datetime | None = None,
    ) -> bool: ...


def outcome_notifier() -> OutcomeNotifier | None:
    """Outreach's ``queue_outcome_notice`` (None: decide without notifying, which tests use).

    Imported when a decision is made, not with this module: outreach reads :func:`is_opted_out`
    from here, and the two must not import each other at start-up.
    """
    from services.registry.outreach.notices import queue_outcome_notice

    notifier: OutcomeNotifier = queue_outcome_notice
    return notifier


def decide_correction(
    session: Session,
    context: Context,
    *,
    reference: str,
    approve: bool,
    reason: str | None,
    notifier: OutcomeNotifier | None,
) -> Decided | Unknown | Conflict | InvalidValue:
    """Approve (applying a name or phone to the record) or reject with a reason; one transaction.

    The outcome notice to the recipient is queued in the same transaction, so a decision is never
    stored without its notice (or the notice without its decision).
    """
    cleaned_reason = None
    if reason is not None and one_line(reason):
        cleaned_reason = _free_text(reason, NOTE_MAX)
        if cleaned_reason is None:
            return InvalidValue("reason", messages.INVALID_REASON)
    if not approve and cleaned_reason is None:
        return InvalidValue("reason", messages.REASON_REQUIRED)
    request = session.scalar(
        select(CorrectionRequest).where(CorrectionRequest.reference == reference).with_for_update()
    )
    if request is None:
        return Unknown(messages.CORRECTION_UNKNOWN)
    if request.status != CorrectionStatus.PENDING.value:
        return Conflict(messages.CORRECTION_DECIDED)
    field = CorrectionField(request.field)
    status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    if approve:
        _apply(session, request, field)
    request.status = status.value
    request.reason = cleaned_reason
    request.decided_by = context.caller
    request.decided_at = context.now
    notified = False
    if notifier is not None:
        notified = notifier(
            session,
            request.recipient_id,
            f"correction:{request.reference}",
            OUTCOME_TEMPLATE,
            _outcome_parameters(request, field, status),
            now=context.now,
        )
        request.notified_at = context.now if notified else None
    context.audit(session, Outcome.CORRECTION_APPROVED if approve else Outcome.CORRECTION_REJECTED)
    session.commit()
    message = (
        messages.correction_approved(field.value, reference)
        if approve
        else messages.correction_rejected(reference)
    )
    return Decided(reference, status, notified, message)


def _apply(session: Session, request: CorrectionRequest, field: CorrectionField) -> None:
    """Name and phone go into the record; a dose record is fixed by an officer by hand."""
    recipient = session.get(Recipient, request.recipient_id, with_for_update=True)
    assert recipient is not None  # the request is deleted with its recipient
    if field is CorrectionField.NAME:
        recipient.full_name = request.requested_value
    elif field is CorrectionField.PHONE:
        recipient.phone = request.requested_value


def _outcome_parameters(
    request: CorrectionRequest, field: CorrectionField, status: CorrectionStatus
) -> list[str]:
    """The template's parameters (reference, outcome, explanation); never the value itself: a template
    may reach a phone that is no longer the person's."""
    if status is CorrectionStatus.REJECTED:
        return [
            request.reference,
            messages.OUTCOME_REJECTED,
            messages.outcome_rejected_because(request.reason or "-"),
        ]
    return [request.reference, messages.OUTCOME_APPROVED, messages.OUTCOME_APPROVED_DETAILS[field.value]]


def list_corrections(
    session: Session, status: CorrectionStatus, limit: int, offset: int
) -> tuple[int, list[CorrectionRequest]]:
    """Oldest first: the longest-waiting request is decided first."""
    where = CorrectionRequest.status == status.value
    total = session.scalar(select(func.count()).select_from(CorrectionRequest).where(where)) or 0
    rows = session.scalars(
        select(CorrectionRequest)
        .where(where)
        .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


# --- KIPI reports ---


def report_kipi(
    session: Session,
    context: Context,
    *,
    recipient_id: int | None,
    symptoms: str,
    onset: str,
    severity: KipiSeverity,
    place: str,
) -> Created | InvalidValue:
    """A new report, linked to the record when ``recipient_id`` (from an opened token) still exists."""
    cleaned_symptoms = _free_text(symptoms, SYMPTOMS_MAX)
    if cleaned_symptoms is None:
        return InvalidValue("symptoms", messages.INVALID_SYMPTOMS)
    cleaned_onset = one_line(onset)
    if not 1 <= len(cleaned_onset) <= ONSET_MAX:
        return InvalidValue("onset", messages.INVALID_ONSET)
    cleaned_place = one_line(place)
    if not 1 <= len(cleaned_place) <= PLACE_MAX:
        return InvalidValue("place", messages.INVALID_PLACE)
    if recipient_id is not None and session.get(Recipient, recipient_id) is None:
        recipient_id = None
    same = session.scalar(
        select(KipiReport).where(
            KipiReport.conversation_hash == (context.conversation_hash or ""),
            KipiReport.created_at >= context.now - REPEAT_WINDOW,
            KipiReport.symptoms == cleaned_symptoms,
            KipiReport.onset == cleaned_onset,
            KipiReport.severity == severity.value,
            KipiReport.place == cleaned_place,
        )
    )
    if same is not None:  # the same report again (a retry or a replay): the same answer
        linked = same.recipient_id is not None
        return Created(same.reference, messages.kipi_received(same.reference, linked), linked)
    for _ in range(_INSERT_ATTEMPTS):
        reference = new_reference(KIPI_PREFIX)
        session.add(
            KipiReport(
                reference=reference,
                recipient_id=recipient_id,
                conversation_hash=context.conversation_hash or "",
                symptoms=cleaned_symptoms,
                onset=cleaned_onset,
                severity=severity.value,
                place=cleaned_place,
                status=KipiStatus.BARU.value,
                created_at=context.now,
            )
        )
        try:
            session.flush()
        except IntegrityError:  # the reference clashed
            session.rollback()
            continue
        context.audit(session, Outcome.KIPI_REPORTED)
        session.commit()
        linked = recipient_id is not None
        return Created(reference, messages.kipi_received(reference, linked), linked)
    raise RuntimeError("no KIPI reference could be stored")


def list_kipi(
    session: Session,
    severity: KipiSeverity | None,
    status: KipiStatus | None,
    limit: int,
    offset: int,
) -> tuple[int, list[KipiReport]]:
    """Most severe first, then oldest first: a severe report waiting longest is seen first."""
    conditions = []
    if severity is not None:
        conditions.append(KipiReport.severity == severity.value)
    if status is not None:
        conditions.append(KipiReport.status == status.value)
    total = session.scalar(select(func.count()).select_from(KipiReport).where(*conditions)) or 0
    rank = case(_SEVERITY_RANK, value=KipiReport.severity, else_=len(_SEVERITY_RANK))
    rows = session.scalars(
        select(KipiReport)
        .where(*conditions)
        .order_by(rank, KipiReport.created_at, KipiReport.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)


def triage_kipi(
    session: Session, context: Context, *, reference: str, status: KipiStatus, note: str | None
) -> Triaged | Unknown | InvalidValue:
    cleaned_note = None
    if note is not None and one_line(note):
        cleaned_note = _free_text(note, NOTE_MAX)
        if cleaned_note is None:
            return InvalidValue("note", messages.INVALID_TRIAGE_NOTE)
    report = session.scalar(select(KipiReport).where(KipiReport.reference == reference).with_for_update())
    if report is None:
        return Unknown(messages.KIPI_UNKNOWN)
    report.status = status.value
    if cleaned_note is not None:
        report.triage_note = cleaned_note
    report.triaged_by = context.caller
    report.triaged_at = context.now
    context.audit(session, Outcome.KIPI_TRIAGED)
    session.commit()
    return Triaged(reference, status, messages.kipi_triaged(reference, status.value))


# --- Opt-out and opt-in ---


def set_opted_out(session: Session, context: Context, *, opted_out: bool, source: str) -> str:
    """Record the choice for ``context.conversation_hash``; idempotent. The Indonesian confirmation.

    Opting out keeps the first time it was asked; opting in clears it (the audit log keeps history).
    """
    hashed = context.conversation_hash
    if not hashed:
        raise ValueError("an opt-out needs the conversation hash")
    for _ in range(_INSERT_ATTEMPTS):
        row = session.get(OptOut, hashed, with_for_update=True)
        if row is None:
            row = OptOut(conversation_hash=hashed, source=source)
            session.add(row)
        if opted_out and row.opted_out_at is None:
            row.opted_out_at = context.now
            row.source = source
        elif not opted_out and (row.opted_out_at is not None or row.opted_in_at is None):
            row.opted_out_at = None
            row.opted_in_at = context.now
            row.source = source
        try:
            session.flush()
        except IntegrityError:  # the same conversation's first row, stored at the same moment
            session.rollback()
            continue
        context.audit(session, Outcome.OPTED_OUT if opted_out else Outcome.OPTED_IN)
        session.commit()
        return messages.OPTED_OUT if opted_out else messages.OPTED_IN
    raise RuntimeError("the opt-out could not be stored")


def is_opted_out(session: Session, conversation_hash: str) -> bool:
    """Whether outreach must not message this conversation (the registry's keyed hash of the sender id).

    For a number: ``services.registry.hashing.conversation_hash(audit key,
    core.sender_identity.conversation_id(phone, sender key))``.
    """
    opted_out_at = session.scalar(
        select(OptOut.opted_out_at).where(OptOut.conversation_hash == conversation_hash)
    )
    return opted_out_at is not None


def list_opt_outs(session: Session, limit: int, offset: int) -> tuple[int, list[OptOut]]:
    """Those opted out now, most recent first."""
    where = OptOut.opted_out_at.is_not(None)
    total = session.scalar(select(func.count()).select_from(OptOut).where(where)) or 0
    rows = session.scalars(
        select(OptOut)
        .where(where)
        .order_by(OptOut.opted_out_at.desc(), OptOut.conversation_hash)
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)
