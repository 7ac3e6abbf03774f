"""HTTP routes for what recipients ask by chat (service token): corrections, KIPI reports, opt-out/in.

The action server calls them with the conversation id Rasa sees. A correction needs the
record_token of a lookup in the same conversation (services/registry/record_token.py); a KIPI report
takes one when it has it. The domain rules live in services/registry/requests.py.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from services.registry import messages
from services.registry.audit import Outcome
from services.registry.auth import CallerDep
from services.registry.dependencies import ClientHostDep, NowDep, SessionDep, SettingsDep
from services.registry.hashing import conversation_hash
from services.registry.record_token import RecordTokensDep
from services.registry.request_schemas import (
    Accepted,
    CorrectionBody,
    CorrectionPendingBody,
    InvalidValueBody,
    KipiAccepted,
    KipiBody,
    OptAnswer,
    OptBody,
)
from services.registry.requests import (
    AlreadyPending,
    Context,
    Created,
    InvalidValue,
    report_kipi,
    request_correction,
    set_opted_out,
)
from services.registry.schemas import ErrorBody, InvalidRequestBody
from services.registry.settings import RegistrySettings
from services.registry.staff_auth import StaffAccessRefused, staff_access_refused_handler
from services.registry.staff_routes import router as staff_router

router = APIRouter(prefix="/v1", tags=["recipients' requests"])

_UNAUTHORISED = {"model": ErrorBody, "description": "No service token, or a wrong one"}
_INVALID = {"model": InvalidRequestBody, "description": "Malformed body"}
_INVALID_VALUE = {"model": InvalidValueBody, "description": "A value that means nothing (Indonesian message)"}


def include_request_routes(app: FastAPI) -> None:
    """Recipients' requests and the staff routes, with the staff routes' refusal answers."""
    app.include_router(router)
    app.include_router(staff_router)
    app.add_exception_handler(StaffAccessRefused, staff_access_refused_handler)


def _context(
    settings: RegistrySettings, conversation_id: str, now: datetime, caller: str, host: str | None
) -> Context:
    hashed = conversation_hash(settings.audit_hash_key.get_secret_value(), conversation_id)
    return Context(now=now, caller=caller, client_host=host, conversation_hash=hashed)


def _invalid(result: InvalidValue) -> JSONResponse:
    body = InvalidValueBody(error="invalid_value", message=result.message, field=result.field)
    return JSONResponse(body.model_dump(), status_code=422)


def _session_ended() -> JSONResponse:
    body = ErrorBody(error="record_session_ended", message=messages.RECORD_SESSION_ENDED)
    return JSONResponse(body.model_dump(), status_code=401)


@router.post(
    "/corrections",
    status_code=201,
    response_model=Accepted,
    responses={
        401: {
            "model": ErrorBody,
            "description": "No or wrong service token; or the record_token is stale, forged or another "
            'conversation\'s (error "record_session_ended": check the data again)',
        },
        409: {"model": CorrectionPendingBody, "description": "One is already pending for that field"},
        422: _INVALID_VALUE,
    },
)
def create_correction(
    body: CorrectionBody,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
    tokens: RecordTokensDep,
) -> Accepted | JSONResponse:
    """A correction request for an officer: the record is not changed until one approves it."""
    context = _context(settings, body.conversation_id, now, caller, client_host)
    recipient_id = tokens.open(body.record_token, body.conversation_id)
    if recipient_id is None:
        context.audit(session, Outcome.RECORD_TOKEN_REFUSED)
        session.commit()
        return _session_ended()
    result = request_correction(
        session,
        context,
        recipient_id=recipient_id,
        field=body.field,
        requested_value=body.requested_value,
        note=body.note,
    )
    if isinstance(result, Created):
        return JSONResponse(Accepted(reference=result.reference, message=result.message).model_dump(), 201)
    if isinstance(result, AlreadyPending):
        pending = CorrectionPendingBody(
            error="correction_pending", message=result.message, reference=result.reference
        )
        return JSONResponse(pending.model_dump(), status_code=409)
    if isinstance(result, InvalidValue):
        context.audit(session, Outcome.INVALID_REQUEST)
        session.commit()
        return _invalid(result)
    return _session_ended()  # the record is gone


@router.post(
    "/kipi",
    status_code=201,
    response_model=KipiAccepted,
    responses={401: _UNAUTHORISED, 422: _INVALID_VALUE},
)
def create_kipi_report(
    body: KipiBody,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
    tokens: RecordTokensDep,
) -> KipiAccepted | JSONResponse:
    """A side-effect report; linked to the record when the record_token opens, else kept anonymous."""
    context = _context(settings, body.conversation_id, now, caller, client_host)
    result = report_kipi(
        session,
        context,
        recipient_id=tokens.open(body.record_token, body.conversation_id),
        symptoms=body.symptoms,
        onset=body.onset,
        severity=body.severity,
        place=body.place,
    )
    if isinstance(result, InvalidValue):
        context.audit(session, Outcome.INVALID_REQUEST)
        session.commit()
        return _invalid(result)
    accepted = KipiAccepted(reference=result.reference, message=result.message, linked=result.linked)
    return JSONResponse(accepted.model_dump(), status_code=201)


@router.post("/opt-out", response_model=OptAnswer, responses={401: _UNAUTHORISED, 422: _INVALID})
def opt_out(
    body: OptBody,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
) -> OptAnswer:
    """No more outreach to this conversation's number; asking again changes nothing."""
    context = _context(settings, body.conversation_id, now, caller, client_host)
    return OptAnswer(
        opted_out=True, message=set_opted_out(session, context, opted_out=True, source=body.source)
    )


@router.post("/opt-in", response_model=OptAnswer, responses={401: _UNAUTHORISED, 422: _INVALID})
def opt_in(
    body: OptBody,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
) -> OptAnswer:
    """Outreach to this conversation's number again (and the consent recorded)."""
    context = _context(settings, body.conversation_id, now, caller, client_host)
    return OptAnswer(
        opted_out=False, message=set_opted_out(session, context, opted_out=False, source=body.source)
    )
