"""Bodies of the recipients' requests (corrections, KIPI, opt-out) and of the staff routes.

Text a person typed is capped here at the length of one WhatsApp message: anything longer is not
a chat answer and is refused before it reaches the domain. The real limits (the columns' sizes)
are checked by the domain (services/registry/requests.py) after cleaning, so that a person who
wrote a little too much is told so in Indonesian rather than with a generic 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.models import CorrectionField, CorrectionStatus, KipiSeverity, KipiStatus
from services.registry.schemas import ErrorBody

ConversationId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="the chat's sender id, as for the lookup (on WhatsApp the keyed hash of the number)",
    ),
]
CHAT_TEXT_MAX = 4096  # WhatsApp's limit for one text message
ChatText = Annotated[str, Field(min_length=1, max_length=CHAT_TEXT_MAX)]
RecordToken = Annotated[
    str, Field(min_length=1, max_length=1000, description="from the lookup answer of this conversation")
]
Reference = Annotated[str, Field(pattern=r"^(KOR|KIPI)-[0-9A-F]{7,8}$", examples=["KOR-7F3A9C1D"])]
Source = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]{0,19}$", description='where it was asked: "chat", "button", "staff" ...'),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Recipients (service token) ---


class CorrectionBody(_Strict):
    record_token: RecordToken
    conversation_id: ConversationId
    field: CorrectionField
    requested_value: Annotated[
        str,
        Field(
            min_length=1,
            max_length=CHAT_TEXT_MAX,
            description="name (≤ 200): as on the KTP; phone: 08…, 62… or +62…; dose (≤ 300): which dose "
            "and what is wrong",
        ),
    ]
    note: Annotated[str | None, Field(default=None, max_length=CHAT_TEXT_MAX, description="≤ 500")] = None


class KipiBody(_Strict):
    conversation_id: ConversationId
    record_token: Annotated[
        str | None,
        Field(
            default=None,
            max_length=1000,
            description="links the report to the record when it opens; without it (or stale) the report "
            "is kept anonymous, by conversation",
        ),
    ] = None
    symptoms: Annotated[ChatText, Field(description="≤ 500 once cleaned")]
    onset: Annotated[ChatText, Field(description="≤ 40 once cleaned", examples=["2 jam setelah vaksin"])]
    severity: KipiSeverity
    place: Annotated[ChatText, Field(description="≤ 200 once cleaned")]


class OptBody(_Strict):
    conversation_id: ConversationId
    source: Source = "chat"


class Accepted(BaseModel):
    reference: str = Field(examples=["KOR-7F3A9C1D"])
    message: str = Field(description="Indonesian, fit to show the person")


class KipiAccepted(Accepted):
    linked: bool = Field(description="whether the report is linked to the checked record")


class OptAnswer(BaseModel):
    opted_out: bool
    message: str = Field(description="Indonesian, fit to show the person")


class InvalidValueBody(ErrorBody):
    field: str = Field(description="which field; the value is never repeated")


class CorrectionPendingBody(ErrorBody):
    reference: str = Field(description="the request still waiting for an officer")


# --- Staff (staff token + X-Staff-User) ---


class CorrectionOut(BaseModel):
    reference: str
    field: CorrectionField
    current_masked: str = Field(description="the value on file when the request came, masked")
    requested_value: str = Field(description="as the recipient sent it (cleaned): the officer must read it")
    note: str | None
    status: CorrectionStatus
    reason: str | None
    decided_by: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    notified_at: dt.datetime | None = Field(
        description="when the outcome notice was queued; null: not queued"
    )


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class CorrectionPage(Page):
    items: list[CorrectionOut]


class DecisionBody(_Strict):
    decision: Literal["approve", "reject"]
    reason: Annotated[str | None, Field(default=None, max_length=500, description="required to reject")] = (
        None
    )


class DecisionAnswer(BaseModel):
    reference: str
    status: CorrectionStatus
    notified: bool = Field(description="whether an outcome notice to the recipient was queued")
    message: str


class KipiOut(BaseModel):
    reference: str
    severity: KipiSeverity
    symptoms: str
    onset: str
    place: str
    status: KipiStatus
    identified: bool = Field(description="linked to a record checked by NIK and birth date")
    triage_note: str | None
    triaged_by: str | None
    created_at: dt.datetime
    triaged_at: dt.datetime | None


class KipiPage(Page):
    items: list[KipiOut]


class TriageBody(_Strict):
    status: KipiStatus
    note: Annotated[str | None, Field(default=None, max_length=500)] = None


class TriageAnswer(BaseModel):
    reference: str
    status: KipiStatus
    message: str


class OptOutOut(BaseModel):
    subscriber: str = Field(
        description="the start of the keyed hash of the conversation: opaque, not a number"
    )
    opted_out_at: dt.datetime
    source: str


class OptOutPage(Page):
    items: list[OptOutOut]
