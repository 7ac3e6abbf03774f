"""Request and response bodies of the lookup API (these also make the OpenAPI docs)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.registry.lockout import LockScope
from services.registry.models import AppointmentStatus


def _iso_date_text(value: object) -> object:
    """Only "YYYY-MM-DD": a number would otherwise be read as a Unix timestamp."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise ValueError("expected an ISO date, YYYY-MM-DD")


class LookupRequest(BaseModel):
    """Who the person says they are. Sent in the body, never in the URL, so it is never logged."""

    model_config = ConfigDict(extra="forbid")

    nik: Annotated[str, Field(pattern=r"^[0-9]{16}$", description="16 digits, no spaces")]
    birth_date: Annotated[dt.date, BeforeValidator(_iso_date_text), Field(description="ISO date, YYYY-MM-DD")]
    conversation_id: Annotated[
        str, Field(min_length=1, max_length=200, description="the chat's sender id; used for lockout")
    ]


class DoseOut(BaseModel):
    dose_number: int
    vaccine_brand: str
    date: dt.date
    facility: str
    batch: str


class AppointmentOut(BaseModel):
    dose_number: int
    date: dt.date
    time: dt.time = Field(description="wall-clock time at the facility")
    facility_name: str
    facility_address: str
    status: AppointmentStatus


class LookupFound(BaseModel):
    name_masked: str = Field(examples=["B*** S*****o"])
    doses: list[DoseOut]
    next_appointment: AppointmentOut | None


class ErrorBody(BaseModel):
    error: str
    message: str = Field(description="Indonesian, fit to show the person")


class LockedBody(ErrorBody):
    scope: LockScope
    retry_after_seconds: int
    locked_until: dt.datetime


class Problem(BaseModel):
    field: str
    problem: str


class InvalidRequestBody(ErrorBody):
    problems: list[Problem] = Field(description="what is wrong, never the value that was sent")


class Health(BaseModel):
    status: str
    database: str
