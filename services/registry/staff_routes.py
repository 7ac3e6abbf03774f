"""HTTP routes for officers, through the review app (staff token + X-Staff-User).

Correction requests to approve or reject, KIPI reports to triage, and who has opted out. Lists
show the value on file masked and the requested value as sent (the officer must read it to decide);
they are paginated and every read or decision is written to the audit log under the officer's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from services.registry.audit import Outcome
from services.registry.dependencies import ClientHostDep, NowDep, SessionDep
from services.registry.models import CorrectionField, CorrectionStatus, KipiSeverity, KipiStatus
from services.registry.request_schemas import (
    CorrectionOut,
    CorrectionPage,
    DecisionAnswer,
    DecisionBody,
    InvalidValueBody,
    KipiOut,
    KipiPage,
    OptOutOut,
    OptOutPage,
    TriageAnswer,
    TriageBody,
)
from services.registry.requests import (
    Context,
    Decided,
    InvalidValue,
    Triaged,
    Unknown,
    decide_correction,
    list_corrections,
    list_kipi,
    list_opt_outs,
    outcome_notifier,
    triage_kipi,
)
from services.registry.schemas import ErrorBody, InvalidRequestBody
from services.registry.staff_auth import StaffUserDep

router = APIRouter(
    prefix="/v1/staff",
    tags=["staff"],
    responses={
        401: {"model": ErrorBody, "description": "No staff token, or a wrong one"},
        422: {"model": InvalidRequestBody, "description": "Malformed request, or no valid X-Staff-User"},
        503: {"model": ErrorBody, "description": "No staff token configured (REGISTRY_STAFF_TOKEN)"},
    },
)

MAX_PAGE = 200
SUBSCRIBER_SHOWN = 12  # characters of the conversation's keyed hash: enough to tell rows apart

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
CorrectionReference = Annotated[str, Path(pattern=r"^KOR-[0-9A-F]{8}$")]
KipiReference = Annotated[str, Path(pattern=r"^KIPI-[0-9A-F]{7}$")]
_UNKNOWN = {"model": ErrorBody, "description": "No such reference"}
_INVALID_VALUE = {"model": InvalidValueBody, "description": "A reason or note that is not acceptable"}


def _context(user: str, now: datetime, client_host: str | None) -> Context:
    return Context(now=now, caller=user, client_host=client_host)


def _error(status_code: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=error, message=message).model_dump(), status_code=status_code)


def _invalid(result: InvalidValue) -> JSONResponse:
    body = InvalidValueBody(error="invalid_value", message=result.message, field=result.field)
    return JSONResponse(body.model_dump(), status_code=422)


@router.get("/corrections", response_model=CorrectionPage)
def corrections(
    user: StaffUserDep,
    session: SessionDep,
    now: NowDep,
    client_host: ClientHostDep,
    status: CorrectionStatus = CorrectionStatus.PENDING,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CorrectionPage:
    """Correction requests with that status, oldest first."""
    total, rows = list_corrections(session, status, limit, offset)
    _context(user, now, client_host).audit(session, Outcome.STAFF_READ)
    session.commit()
    items = [
        CorrectionOut(
            reference=row.reference,
            field=CorrectionField(row.field),
            current_masked=row.current_masked,
            requested_value=row.requested_value,
            note=row.note,
            status=CorrectionStatus(row.status),
            reason=row.reason,
            decided_by=row.decided_by,
            created_at=row.created_at,
            decided_at=row.decided_at,
            notified_at=row.notified_at,
        )
        for row in rows
    ]
    return CorrectionPage(total=total, limit=limit, offset=offset, items=items)


@router.post(
    "/corrections/{reference}/decision",
    response_model=DecisionAnswer,
    responses={
        404: _UNKNOWN,
        409: {"model": ErrorBody, "description": "Already decided"},
        422: _INVALID_VALUE,
    },
)
def decide(
    reference: CorrectionReference,
    body: DecisionBody,
    user: StaffUserDep,
    session: SessionDep,
    now: NowDep,
    client_host: ClientHostDep,
) -> DecisionAnswer | JSONResponse:
    """Approve (a name or phone is applied to the record at once) or reject with a reason."""
    result = decide_correction(
        session,
        _context(user, now, client_host),
        reference=reference,
        approve=body.decision == "approve",
        reason=body.reason,
        notifier=outcome_notifier(),
    )
    if isinstance(result, Decided):
        return DecisionAnswer(
            reference=result.reference, status=result.status, notified=result.notified, message=result.message
        )
    if isinstance(result, InvalidValue):
        return _invalid(result)
    if isinstance(result, Unknown):
        return _error(404, "not_found", result.message)
    return _error(409, "already_decided", result.message)


@router.get("/kipi", response_model=KipiPage)
def kipi_reports(
    user: StaffUserDep,
    session: SessionDep,
    now: NowDep,
    client_host: ClientHostDep,
    severity: KipiSeverity | None = None,
    status: KipiStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> KipiPage:
    """KIPI reports, most severe first, then oldest first."""
    total, rows = list_kipi(session, severity, status, limit, offset)
    _context(user, now, client_host).audit(session, Outcome.STAFF_READ)
    session.commit()
    items = [
        KipiOut(
            reference=row.reference,
            severity=KipiSeverity(row.severity),
            symptoms=row.symptoms,
            onset=row.onset,
            place=row.place,
            status=KipiStatus(row.status),
            identified=row.recipient_id is not None,
            triage_note=row.triage_note,
            triaged_by=row.triaged_by,
            created_at=row.created_at,
            triaged_at=row.triaged_at,
        )
        for row in rows
    ]
    return KipiPage(total=total, limit=limit, offset=offset, items=items)


@router.post(
    "/kipi/{reference}/triage", response_model=TriageAnswer, responses={404: _UNKNOWN, 422: _INVALID_VALUE}
)
def triage(
    reference: KipiReference,
    body: TriageBody,
    user: StaffUserDep,
    session: SessionDep,
    now: NowDep,
    client_host: ClientHostDep,
) -> TriageAnswer | JSONResponse:
    """Move a report to "ditangani" or "selesai" (or back), with an optional note."""
    result = triage_kipi(
        session, _context(user, now, client_host), reference=reference, status=body.status, note=body.note
    )
    if isinstance(result, Triaged):
        return TriageAnswer(reference=result.reference, status=result.status, message=result.message)
    if isinstance(result, InvalidValue):
        return _invalid(result)
    return _error(404, "not_found", result.message)


@router.get("/opt-outs", response_model=OptOutPage)
def opt_outs(
    user: StaffUserDep,
    session: SessionDep,
    now: NowDep,
    client_host: ClientHostDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OptOutPage:
    """Conversations opted out now, most recent first; never a number."""
    total, rows = list_opt_outs(session, limit, offset)
    _context(user, now, client_host).audit(session, Outcome.STAFF_READ)
    session.commit()
    items = [
        OptOutOut(
            subscriber=row.conversation_hash[:SUBSCRIBER_SHOWN],
            opted_out_at=row.opted_out_at,
            source=row.source,
        )
        for row in rows
        if row.opted_out_at is not None
    ]
    return OptOutPage(total=total, limit=limit, offset=offset, items=items)
