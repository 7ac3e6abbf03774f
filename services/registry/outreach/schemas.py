"""Request and response bodies of the outreach routes (these also make the OpenAPI docs)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.outreach.models import CampaignKind

REFERENCE_PATTERN = r"^[A-Za-z0-9_-]{1,12}$"


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CampaignKind
    template: Annotated[str, Field(min_length=1, max_length=60)]
    language: Literal["id"] = "id"
    days: Annotated[int | None, Field(ge=1, le=365)] = None
    name: Annotated[str | None, Field(max_length=100)] = None


class CountsOut(BaseModel):
    due: int
    sent: int
    pending: int
    deferred: int = Field(description="of pending: waiting for the end of quiet hours")
    skipped: dict[str, int] = Field(
        description="reason -> notices: opted_out, no_whatsapp_number, already_notified"
    )
    failed: dict[str, int] = Field(description="reason -> notices: meta_<code> (Meta's error code), ...")


class CampaignOut(BaseModel):
    id: int
    name: str
    kind: str
    status: str
    template: str
    language: str
    days: int | None
    counts: CountsOut
    created_at: dt.datetime
    created_by: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    dry_run: bool = Field(default=False, description="true: the counts are what starting now would do")


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class NoticeResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: Annotated[str, Field(min_length=1, max_length=200, description="the chat's sender id")]
    reference: Annotated[str, Field(pattern=REFERENCE_PATTERN, description="from the button's payload")]


class NoticeAppointment(BaseModel):
    date: dt.date
    time: dt.time
    facility_name: str
    facility_address: str


class NoticeResolved(BaseModel):
    kind: str = Field(description="appointment_reminder, dose_due, certificate_ready or correction_outcome")
    campaign_name: str | None
    sent_at: dt.datetime
    appointment: NoticeAppointment | None = None
