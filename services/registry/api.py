"""HTTP routes: a health check, the lookup the action server calls, and the one-time code check."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.registry import messages
from services.registry.auth import CallerDep
from services.registry.challenges import CodeQuery, verify_code
from services.registry.dependencies import ClientHostDep, CodeSenderDep, NowDep, SessionDep, SettingsDep
from services.registry.lookup import LookupQuery, look_up
from services.registry.record_token import RecordTokensDep
from services.registry.results import CodeSent, CodeUnavailable, Found, Locked, NotFound, WrongCode
from services.registry.schemas import (
    AppointmentOut,
    CodeEndedBody,
    CodeRequest,
    CodeSentBody,
    DoseOut,
    ErrorBody,
    Health,
    InvalidRequestBody,
    LockedBody,
    LookupFound,
    LookupRequest,
    NotFoundBody,
    OnFileOut,
    WrongCodeBody,
)

log = logging.getLogger(__name__)
router = APIRouter()

_UNAUTHORISED = {"model": ErrorBody, "description": "No service token, or a wrong one"}
_INVALID = {"model": InvalidRequestBody, "description": "Malformed body"}
_LOCKED = {"model": LockedBody, "description": "Too many failed checks for this NIK, conversation or number"}


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(session: SessionDep) -> Health | JSONResponse:
    """Up, and able to reach its database."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.error("health check: database unreachable")
        return JSONResponse(
            Health(status="unavailable", database="unreachable").model_dump(), status_code=503
        )
    return Health(status="ok", database="ok")


@router.post(
    "/v1/lookup",
    response_model=LookupFound,
    responses={
        202: {
            "model": CodeSentBody,
            "description": "WhatsApp from another number: a code went to the number on file",
        },
        401: _UNAUTHORISED,
        404: {"model": NotFoundBody, "description": "Unknown NIK or wrong birth date (indistinguishable)"},
        422: _INVALID,
        429: _LOCKED,
        503: {"model": ErrorBody, "description": "A code was needed and could not be sent"},
    },
)
def lookup(
    body: LookupRequest,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
    code_sender: CodeSenderDep,
    tokens: RecordTokensDep,
) -> LookupFound | JSONResponse:
    """Doses and next appointment, for an NIK, the matching birth date and, on WhatsApp, the number."""
    query = LookupQuery(body.nik, body.birth_date, body.conversation_id, body.channel)
    result = look_up(
        session, settings, query, now=now, caller=caller, client_host=client_host, code_sender=code_sender
    )
    if isinstance(result, Found):
        return _found(result, tokens.issue(result.recipient_id, body.conversation_id))
    if isinstance(result, Locked):
        return _locked(result, now)
    if isinstance(result, CodeSent):
        sent = CodeSentBody(
            status="code_sent",
            message=messages.code_sent(result.phone_masked, max(1, result.expires_in_seconds // 60)),
            challenge_id=result.challenge_id,
            phone_masked=result.phone_masked,
            expires_in_seconds=result.expires_in_seconds,
        )
        return JSONResponse(sent.model_dump(), status_code=202)
    if isinstance(result, CodeUnavailable):
        unavailable = ErrorBody(error="code_unavailable", message=messages.CODE_UNAVAILABLE)
        return JSONResponse(unavailable.model_dump(), status_code=503)
    assert isinstance(result, NotFound)
    message = messages.NOT_FOUND_WHATSAPP_ONLY if result.whatsapp_only else messages.NOT_FOUND
    not_found = NotFoundBody(error="not_found", message=message, whatsapp_only=result.whatsapp_only)
    return JSONResponse(not_found.model_dump(), status_code=404)


@router.post(
    "/v1/lookup/code",
    response_model=LookupFound,
    responses={
        400: {"model": WrongCodeBody, "description": "Wrong code; the same challenge may be tried again"},
        401: _UNAUTHORISED,
        410: {
            "model": CodeEndedBody,
            "description": "Expired, used, unknown or out of attempts: start again",
        },
        422: _INVALID,
        429: _LOCKED,
    },
)
def check_code(
    body: CodeRequest,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
    tokens: RecordTokensDep,
) -> LookupFound | JSONResponse:
    """The record, once the code sent to the number on file is typed in the conversation that asked."""
    query = CodeQuery(body.challenge_id, body.code, body.conversation_id)
    result = verify_code(session, settings, query, now=now, caller=caller, client_host=client_host)
    if isinstance(result, Found):
        return _found(result, tokens.issue(result.recipient_id, body.conversation_id))
    if isinstance(result, Locked):
        return _locked(result, now)
    if isinstance(result, WrongCode):
        wrong = WrongCodeBody(
            error="wrong_code",
            message=messages.wrong_code(result.attempts_left),
            attempts_left=result.attempts_left,
        )
        return JSONResponse(wrong.model_dump(), status_code=400)
    ended = CodeEndedBody(
        error="code_ended",
        message=messages.CODE_ENDED_TOO_MANY if result.too_many_attempts else messages.CODE_ENDED,
        too_many_attempts=result.too_many_attempts,
    )
    return JSONResponse(ended.model_dump(), status_code=410)


def _found(result: Found, record_token: str) -> LookupFound:
    upcoming = result.next_appointment
    on_file = result.on_file
    return LookupFound(
        name_masked=result.name_masked,
        record_token=record_token,
        on_file=OnFileOut(
            name_masked=on_file.name_masked,
            phone_masked=on_file.phone_masked,
            birth_date_masked=on_file.birth_date_masked,
            district=on_file.district,
        ),
        doses=[
            DoseOut(
                dose_number=dose.dose_number,
                vaccine_brand=dose.vaccine_brand,
                date=dose.given_on,
                facility=dose.facility,
                batch=dose.batch,
            )
            for dose in result.doses
        ],
        next_appointment=None
        if upcoming is None
        else AppointmentOut(
            dose_number=upcoming.dose_number,
            date=upcoming.scheduled_at.date(),
            time=upcoming.scheduled_at.time(),
            facility_name=upcoming.facility_name,
            facility_address=upcoming.facility_address,
            status=upcoming.status,
        ),
    )


def _locked(result: Locked, now: datetime) -> JSONResponse:
    seconds = result.lock.seconds_left(now)
    body = LockedBody(
        error="locked",
        message=messages.locked(seconds),
        scope=result.lock.scope,
        retry_after_seconds=seconds,
        locked_until=result.lock.until,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=429, headers={"Retry-After": str(seconds)})
