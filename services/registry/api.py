"""HTTP routes: a health check, and the lookup the action server calls."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.registry import messages
from services.registry.auth import CallerDep
from services.registry.dependencies import ClientHostDep, NowDep, SessionDep, SettingsDep
from services.registry.lookup import Found, Locked, LookupQuery, look_up
from services.registry.schemas import (
    AppointmentOut,
    DoseOut,
    ErrorBody,
    Health,
    InvalidRequestBody,
    LockedBody,
    LookupFound,
    LookupRequest,
)

log = logging.getLogger(__name__)
router = APIRouter()


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
        401: {"model": ErrorBody, "description": "No service token, or a wrong one"},
        404: {"model": ErrorBody, "description": "Unknown NIK or wrong birth date (indistinguishable)"},
        422: {"model": InvalidRequestBody, "description": "Malformed body"},
        429: {"model": LockedBody, "description": "Too many failed checks for this NIK or conversation"},
    },
)
def lookup(
    body: LookupRequest,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    client_host: ClientHostDep,
) -> LookupFound | JSONResponse:
    """A person's doses and next appointment, for an NIK and the matching birth date."""
    query = LookupQuery(body.nik, body.birth_date, body.conversation_id)
    result = look_up(session, settings, query, now=now, caller=caller, client_host=client_host)
    if isinstance(result, Found):
        return _found(result)
    if isinstance(result, Locked):
        return _locked(result, now)
    return JSONResponse(
        ErrorBody(error="not_found", message=messages.NOT_FOUND).model_dump(), status_code=404
    )


def _found(result: Found) -> LookupFound:
    upcoming = result.next_appointment
    return LookupFound(
        name_masked=result.name_masked,
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
