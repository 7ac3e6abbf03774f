"""The review app's one client for the registry's staff API (campaigns, correction requests, KIPI
reports, opt-outs).

Every call carries the staff token (``REGISTRY_STAFF_TOKEN``, a bearer token of its own: the action
server's service token never leaves the action server) and the signed-in user's name in
``X-Staff-User``, so the registry's audit trail names who decided. Timeouts, refused connections and
error answers all end here as one exception, :class:`RegistryError`, whose message is Indonesian
and safe to show on a page: a stack trace or the registry's internals never reach the browser.

The pages (outreach_pages.py) never build a URL themselves: references and ids are checked here
before they go into a path, so a typed-in reference cannot reach another route of the registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.review.settings import ReviewSettings

STAFF_USER_HEADER = "X-Staff-User"
# References are short and opaque ("KOR-7F3A9C1D"); anything else names nothing in the registry.
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,20}")
MAX_CAMPAIGN_ID = 2**31 - 1

NO_TOKEN = (
    "Token staf registri (REGISTRY_STAFF_TOKEN) belum diatur untuk aplikasi ini, jadi halaman ini tidak "
    "dapat membaca registri vaksinasi. make run mengaturnya sendiri; di server lain, minta administrator "
    "mengaturnya untuk registri dan aplikasi ini."
)
DOWN = "Registri vaksinasi tidak dapat dihubungi saat ini. Coba lagi sebentar lagi."
TOKEN_REFUSED = (
    "Registri vaksinasi menolak token staf aplikasi ini: REGISTRY_STAFF_TOKEN tidak sama dengan yang "
    "dipakai registri. Minta administrator menyamakannya."
)
NOT_READY = (
    "Registri vaksinasi belum melayani halaman staf: token staf belum diatur di registri, atau "
    "registri sedang tidak dapat membaca basis datanya."
)
NOT_FOUND = "Data itu tidak ada di registri."
STAFF_ACCESS_OFF = "staff_access_off"  # the registry's code: it has no staff token
HTTP_ERROR = "Registri vaksinasi menjawab dengan kesalahan HTTP {status}."
UNREADABLE = "Jawaban registri vaksinasi tidak dapat dibaca."

CampaignAction = Literal["start", "pause", "resume"]
Decision = Literal["approve", "reject"]


class RegistryError(Exception):
    """The registry did not do what the page asked.

    ``message`` is Indonesian: either one of this module's texts (``values`` fill its ``{...}``, so
    the page can translate it) or, for a refusal the registry explains itself (409, 422), the
    registry's own Indonesian message (``from_registry``: a 503 other than "no staff token" too,
    e.g. WhatsApp not configured for a dry run). ``status`` is the registry's HTTP status,
    or None when it was not reached at all.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        values: dict[str, Any] | None = None,
        from_registry: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.values = values or {}
        self.from_registry = from_registry

    @property
    def not_found(self) -> bool:
        return self.status == 404


# --- what the registry answers (extra fields are ignored: the registry may say more) -----------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CampaignCounts(_Answer):
    """A campaign's report, or what a dry run expects (then ``pending`` is what would be sent)."""

    due: int = 0
    sent: int = 0
    pending: int = 0
    deferred: int = 0  # of pending: waiting for quiet hours to end in the recipient's zone
    skipped: dict[str, int] = Field(default_factory=dict)  # reason -> recipients
    failed: dict[str, int] = Field(default_factory=dict)  # reason -> recipients

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


class Campaign(_Answer):
    id: int
    name: str = ""
    kind: str
    status: str
    template: str | None = None
    language: str | None = None
    days: int | None = None
    counts: CampaignCounts = Field(default_factory=CampaignCounts)
    created_at: datetime | None = None
    created_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Correction(_Answer):
    reference: str
    field: str
    current_masked: str = ""
    requested_value: str = ""
    note: str | None = None
    status: str
    reason: str | None = None
    decided_by: str | None = None
    created_at: datetime | None = None
    decided_at: datetime | None = None


class Decided(_Answer):
    """The registry's answer to a decision or a triage: the new status and its own message."""

    reference: str
    status: str
    message: str = ""


class KipiReport(_Answer):
    reference: str
    symptoms: str = ""
    onset: str = ""
    severity: str
    place: str = ""
    status: str
    identified: bool = False  # linked to a record checked by NIK and birth date
    triage_note: str | None = None
    triaged_by: str | None = None
    created_at: datetime | None = None
    triaged_at: datetime | None = None


class OptOut(_Answer):
    subscriber: str = ""  # the start of the registry's keyed hash of the conversation: opaque
    opted_out_at: datetime | None = None
    opted_in_at: datetime | None = None
    source: str | None = None


class OptOuts(_Answer):
    """Who is opted out now (``total``) and the latest of them, newest first."""

    total: int = 0
    items: list[OptOut] = Field(default_factory=list)


M = TypeVar("M", bound=_Answer)


# --- the client -------------------------------------------------------------------------------


def valid_reference(reference: str) -> bool:
    return REFERENCE_PATTERN.fullmatch(reference) is not None


def staff_header(username: str) -> str:
    """A header value is ASCII: a username with other letters goes percent-encoded (UTF-8)."""
    return quote(username, safe="._-")


@dataclass
class RegistryClient:
    """The registry's staff routes; one ``httpx.Client`` per app, closed with it."""

    http: httpx.Client
    token: str
    calls: list[str] = field(default_factory=list, repr=False)  # paths, for the tests

    @classmethod
    def from_settings(
        cls, settings: ReviewSettings, transport: httpx.BaseTransport | None = None
    ) -> RegistryClient:
        http = httpx.Client(
            base_url=settings.registry_url,
            timeout=httpx.Timeout(settings.registry_timeout_seconds),
            transport=transport,
        )
        return cls(http, settings.registry_staff_token.get_secret_value())

    def close(self) -> None:
        self.http.close()

    # campaigns (helper B's routes: services/registry/outreach/routes.py)

    def campaigns(self, user: str) -> list[Campaign]:
        return _parse_list(Campaign, self._call("GET", "/v1/staff/campaigns", user), "campaigns")

    def create_campaign(
        self, user: str, *, kind: str, template: str, days: int | None, name: str
    ) -> Campaign:
        """A draft campaign from a saved audience, with the kind's approved template in Indonesian."""
        body: dict[str, Any] = {"kind": kind, "template": template, "language": "id", "name": name}
        if days is not None:
            body["days"] = days
        return _parse(Campaign, self._call("POST", "/v1/staff/campaigns", user, json=body))

    def campaign(self, user: str, campaign_id: int) -> Campaign:
        return _parse(Campaign, self._call("GET", _campaign_path(campaign_id), user))

    def campaign_action(self, user: str, campaign_id: int, action: CampaignAction) -> Campaign:
        return _parse(Campaign, self._call("POST", f"{_campaign_path(campaign_id)}/{action}", user))

    def dry_run(self, user: str, campaign_id: int) -> CampaignCounts:
        """What starting now would send and skip; the registry writes and sends nothing."""
        answer = self._call("POST", f"{_campaign_path(campaign_id)}/dry-run", user)
        if isinstance(answer, dict) and isinstance(answer.get("counts"), dict):
            answer = answer["counts"]
        return _parse(CampaignCounts, answer)

    # correction requests, KIPI reports, opt-outs (helper A's routes: services/registry/staff_routes.py)

    def corrections(self, user: str, status: str) -> list[Correction]:
        answer = self._call("GET", "/v1/staff/corrections", user, params={"status": status})
        return _parse_list(Correction, answer, "corrections")

    def decide_correction(self, user: str, reference: str, decision: Decision, reason: str) -> Decided:
        path = f"/v1/staff/corrections/{_reference_path(reference)}/decision"
        body = {"decision": decision, "reason": reason or None}
        return _parse(Decided, self._call("POST", path, user, json=body))

    def kipi_reports(self, user: str, *, severity: str | None, status: str | None) -> list[KipiReport]:
        params = {name: value for name, value in (("severity", severity), ("status", status)) if value}
        return _parse_list(KipiReport, self._call("GET", "/v1/staff/kipi", user, params=params), "reports")

    def triage_kipi(self, user: str, reference: str, status: str, note: str) -> Decided:
        path = f"/v1/staff/kipi/{_reference_path(reference)}/triage"
        return _parse(Decided, self._call("POST", path, user, json={"status": status, "note": note or None}))

    def opt_outs(self, user: str) -> OptOuts:
        return _parse(OptOuts, self._call("GET", "/v1/staff/opt-outs", user))

    # one place for timeouts, status codes and JSON

    def _call(self, method: str, path: str, user: str, **kwargs: Any) -> Any:
        if not self.token:
            raise RegistryError(NO_TOKEN)
        headers = {"Authorization": f"Bearer {self.token}", STAFF_USER_HEADER: staff_header(user)}
        self.calls.append(f"{method} {path}")
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise RegistryError(DOWN) from error
        if response.status_code >= 400:
            raise _error(response)
        try:
            return response.json()
        except ValueError as error:
            raise RegistryError(UNREADABLE, response.status_code) from error


def _campaign_path(campaign_id: int) -> str:
    if not 0 < campaign_id <= MAX_CAMPAIGN_ID:
        raise RegistryError(NOT_FOUND, 404)
    return f"/v1/staff/campaigns/{campaign_id}"


def _reference_path(reference: str) -> str:
    if not valid_reference(reference):
        raise RegistryError(NOT_FOUND, 404)  # never sent: it could not name a record
    return quote(reference, safe="")


def _error(response: httpx.Response) -> RegistryError:
    status = response.status_code
    if status == 401:
        return RegistryError(TOKEN_REFUSED, status)
    if status == 404:
        return RegistryError(NOT_FOUND, status)
    if status == 503 and _error_code(response) in (None, STAFF_ACCESS_OFF):
        return RegistryError(NOT_READY, status)
    if status == 422 and _about_reference(response):
        return RegistryError(NOT_FOUND, 404)  # a reference of a form the registry never gives out
    if status in (400, 409, 422, 503):
        message = _registry_message(response)
        if message:
            return RegistryError(message, status, from_registry=True)
    return RegistryError(HTTP_ERROR, status, values={"status": status})


def _error_code(response: httpx.Response) -> str | None:
    """The registry's ``error`` code of an error answer, if it gave one."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def _about_reference(response: httpx.Response) -> bool:
    """Whether a 422 names the path's reference as the problem (the registry's ``problems``)."""
    try:
        problems = response.json().get("problems") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(p, dict) and str(p.get("field", "")).endswith("reference") for p in problems)


def _registry_message(response: httpx.Response) -> str | None:
    """The registry's own Indonesian explanation of a refusal (``message``, or FastAPI's ``detail``)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key in ("message", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:500]
    return None


def _parse(model: type[M], answer: Any) -> M:
    try:
        return model.model_validate(answer)
    except ValidationError as error:
        raise RegistryError(UNREADABLE) from error


def _parse_list(model: type[M], answer: Any, key: str) -> list[M]:
    """A list, as a JSON array or under ``key`` (or ``items``) of an object."""
    if isinstance(answer, dict):
        answer = answer.get(key, answer.get("items"))
    if not isinstance(answer, list):
        raise RegistryError(UNREADABLE)
    return [_parse(model, item) for item in answer]
