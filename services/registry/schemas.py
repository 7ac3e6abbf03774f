"""Request and response bodies of the lookup API (these also make the OpenAPI docs)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from core.personal_data import NIK_DIGITS
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

    nik: Annotated[str, Field(pattern=rf"^[0-9]{{{NIK_DIGITS}}}$", description="16 digits, no spaces")]
    birth_date: Annotated[dt.date, BeforeValidator(_iso_date_text), Field(description="ISO date, YYYY-MM-DD")]
    conversation_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="the chat's sender id (lockout; on WhatsApp the keyed hash of the number)",
        ),
    ]
    channel: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]{0,31}$",
            description='the Rasa input channel; "whatsapp" checks the number, any other is a test channel',
        ),
    ]


class CodeRequest(BaseModel):
    """The one-time code the person typed, for the challenge a lookup answered 202 with."""

    model_config = ConfigDict(extra="forbid")

    challenge_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{20,100}$")]
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="6 digits")]
    conversation_id: Annotated[
        str, Field(min_length=1, max_length=200, description="the same as for the lookup")
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


class OnFileOut(BaseModel):
    """The personal data on file, masked so that the person recognises it and nobody else learns it."""

    name_masked: str = Field(examples=["B••• S•••••o"])
    phone_masked: str = Field(examples=["+62 8•••••••0001"])
    birth_date_masked: str = Field(examples=["••-••-1985"])
    district: str


class LookupFound(BaseModel):
    name_masked: str = Field(examples=["B••• S•••••o"])
    doses: list[DoseOut]
    next_appointment: AppointmentOut | None
    # Optional in the schema so that older answers still parse; the registry always sends both.
    record_token: str | None = Field(
        default=None,
        description="opaque; send it back, from the same conversation within 30 minutes, to request a "
        "correction or link a KIPI report; never show it",
    )
    on_file: OnFileOut | None = None


class ErrorBody(BaseModel):
    error: str
    message: str = Field(description="Indonesian, fit to show the person")


class NotFoundBody(ErrorBody):
    whatsapp_only: bool = Field(
        description="this channel reaches only the demo registry: the same for every NIK, found or not"
    )


class CodeSentBody(BaseModel):
    status: str = Field(examples=["code_sent"])
    message: str = Field(description="Indonesian, fit to show the person")
    challenge_id: str = Field(description="send it back with the code; never show it")
    phone_masked: str = Field(examples=["+62 8xxxxxxx0001"])
    expires_in_seconds: int


class WrongCodeBody(ErrorBody):
    attempts_left: int


class CodeEndedBody(ErrorBody):
    too_many_attempts: bool


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
