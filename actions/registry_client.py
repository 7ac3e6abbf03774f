"""The action server's client for the registry lookup API (services/registry, ``POST /v1/lookup``).

Answers become typed results: a schedule, "no match" (unknown NIK and wrong birth date look the
same), "locked", or "code sent" (WhatsApp from another number than the one on file); the code the
person then types goes to ``POST /v1/lookup/code``: a schedule, "wrong code", "code ended" or
"locked". The outreach calls (issue #13) file a correction request or a side-effect report, record
an opt-out or opt-in, and check that a notice a button reply names went to this conversation.
Trouble becomes an exception the caller turns into an apology. Only
failures where the request surely did not count are retried: a connection that never opened,
and 5xx. A read timeout is not: the registry may have recorded a failed check, and retrying
would count it twice towards the lockout and keep the person waiting longer. 4xx is our own
mistake and never improves on retry. Nothing logged here carries the NIK or the birth date, nor
a requested value or symptoms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from actions.settings import ActionSettings

log = logging.getLogger(__name__)

LOOKUP_PATH = "/v1/lookup"
_Body = TypeVar("_Body", bound=BaseModel)
CODE_PATH = "/v1/lookup/code"
CORRECTIONS_PATH = "/v1/corrections"
KIPI_PATH = "/v1/kipi"
OPT_OUT_PATH = "/v1/opt-out"
OPT_IN_PATH = "/v1/opt-in"
RESOLVE_NOTICE_PATH = "/v1/notices/resolve"


@dataclass(frozen=True)
class Dose:
    number: int
    vaccine_brand: str
    given_on: dt.date
    facility: str


@dataclass(frozen=True)
class Appointment:
    dose_number: int
    on: dt.date
    at: dt.time
    facility_name: str
    facility_address: str


@dataclass(frozen=True)
class OnFile:
    """What the registry holds about the person, masked, for "Cek data saya"."""

    name_masked: str
    phone_masked: str
    birth_date_masked: str
    district: str


@dataclass(frozen=True)
class Schedule:
    """The person's record: the name comes masked (``B••• S•••••o``).

    ``record_token``: the registry's opaque handle on this record for this conversation (30 min),
    needed to request a correction or to attach a side-effect report to the record; ``on_file``:
    the masked data on file. Both are absent from a registry that predates issue #13.
    """

    name_masked: str
    doses: tuple[Dose, ...]
    next_appointment: Appointment | None
    record_token: str | None = None
    on_file: OnFile | None = None


@dataclass(frozen=True)
class NoMatch:
    """Unknown NIK or wrong birth date: the registry does not say which.

    ``whatsapp_only``: this channel reaches only the demo registry (the same for every NIK).
    """

    whatsapp_only: bool = False


@dataclass(frozen=True)
class CodeSent:
    """A one-time code went to the number on file; ``message`` (Indonesian) says where, masked."""

    challenge_id: str
    message: str


@dataclass(frozen=True)
class WrongCode:
    message: str
    attempts_left: int


@dataclass(frozen=True)
class CodeEnded:
    """Expired, used, or wrong too often: the check starts again."""

    message: str


@dataclass(frozen=True)
class Locked:
    """Too many failed checks; ``message`` is the registry's Indonesian text for the person."""

    message: str
    retry_after_seconds: int | None


@dataclass(frozen=True)
class Filed:
    """A correction request or side-effect report the registry recorded: its reference for the person."""

    reference: str
    message: str


@dataclass(frozen=True)
class AlreadyPending:
    """The same correction is already waiting for an officer (409): its reference, if the registry said."""

    reference: str | None
    message: str


@dataclass(frozen=True)
class RecordTokenRejected:
    """The record token expired or belongs to another conversation (401): check the data again."""


@dataclass(frozen=True)
class Invalid:
    """The registry refused the values (422); ``message`` is its Indonesian text for the person."""

    message: str


@dataclass(frozen=True)
class OptStatus:
    opted_out: bool
    message: str


@dataclass(frozen=True)
class NoticeAppointment:
    on: dt.date
    at: dt.time
    facility_name: str
    facility_address: str


@dataclass(frozen=True)
class Notice:
    """A notice the registry sent to this conversation: what it was about, never whom."""

    kind: str
    campaign_name: str
    sent_at: dt.datetime
    appointment: NoticeAppointment | None


LookupResult = Schedule | NoMatch | Locked | CodeSent
CodeResult = Schedule | WrongCode | CodeEnded | Locked
CorrectionResult = Filed | AlreadyPending | RecordTokenRejected | Invalid
KipiResult = Filed | Invalid


class RegistryError(Exception):
    """The lookup did not happen; the person gets an apology."""


class RegistryUnavailable(RegistryError):
    """Down, unreachable, too slow, or failing (5xx) even after the retries."""


class RegistryRefused(RegistryError):
    """A 4xx other than 404/429, or an answer we cannot read: a bug or misconfiguration on our side."""


class _DoseBody(BaseModel):
    dose_number: int
    vaccine_brand: str
    date: dt.date
    facility: str


class _AppointmentBody(BaseModel):
    dose_number: int
    date: dt.date
    time: dt.time
    facility_name: str
    facility_address: str


class _OnFileBody(BaseModel):
    name_masked: str
    phone_masked: str
    birth_date_masked: str
    district: str


class _FoundBody(BaseModel):
    name_masked: str
    doses: list[_DoseBody]
    next_appointment: _AppointmentBody | None
    record_token: str | None = None
    on_file: _OnFileBody | None = None


class _FiledBody(BaseModel):
    reference: str
    message: str


class _ErrorBody(BaseModel):
    error: str = ""
    message: str = ""
    reference: str | None = None


class _OptBody(BaseModel):
    opted_out: bool
    message: str


class _NoticeAppointmentBody(BaseModel):
    date: dt.date
    time: dt.time
    facility_name: str
    facility_address: str


class _NoticeBody(BaseModel):
    kind: str
    campaign_name: str
    sent_at: dt.datetime
    appointment: _NoticeAppointmentBody | None = None


class _LockedBody(BaseModel):
    message: str
    retry_after_seconds: int | None = None


class _NotFoundBody(BaseModel):
    whatsapp_only: bool = False


class _CodeSentBody(BaseModel):
    challenge_id: str
    message: str


class _CodeRefusedBody(BaseModel):
    error: str
    message: str
    attempts_left: int = 0


@cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context for the registry (and its health check).

    httpx builds a new default context, loading the system's CA bundle, for every client, even for
    an ``http://`` registry: that was a tenth of the action server's CPU under ``make load``
    (py-spy, 7 Dec 2026). Built once, it is the same verification with the same CAs.
    """
    return ssl.create_default_context()


class RegistryClient:
    """One lookup per call, each on a fresh connection (lookups are rare; no pool to go stale)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff_seconds: float = 0.25,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._retries = retries
        self._backoff_seconds = backoff_seconds

    @classmethod
    def from_settings(cls, settings: ActionSettings) -> RegistryClient:
        return cls(
            settings.registry_url,
            settings.registry_service_token.get_secret_value(),
            connect_timeout=settings.registry_connect_timeout_seconds,
            read_timeout=settings.registry_read_timeout_seconds,
            retries=settings.registry_retries,
            backoff_seconds=settings.registry_backoff_seconds,
        )

    async def lookup(self, nik: str, birth_date: dt.date, conversation_id: str, channel: str) -> LookupResult:
        """``channel`` is Rasa's input channel: on "whatsapp" the registry checks the sender's number."""
        body = {
            "nik": nik,
            "birth_date": birth_date.isoformat(),
            "conversation_id": conversation_id,
            "channel": channel,
        }
        response = await self._post(LOOKUP_PATH, body)
        if response.status_code == httpx.codes.OK:
            return _schedule(response)
        if response.status_code == httpx.codes.ACCEPTED:
            sent = _read(_CodeSentBody, response)
            return CodeSent(sent.challenge_id, sent.message)
        if response.status_code == httpx.codes.NOT_FOUND:
            return NoMatch(_read(_NotFoundBody, response).whatsapp_only)
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            return _locked(response)
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def check_code(self, challenge_id: str, code: str, conversation_id: str) -> CodeResult:
        """The code the person typed, for the challenge ``lookup`` answered with."""
        body = {"challenge_id": challenge_id, "code": code, "conversation_id": conversation_id}
        response = await self._post(CODE_PATH, body)
        if response.status_code == httpx.codes.OK:
            return _schedule(response)
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            return _locked(response)
        if response.status_code in (httpx.codes.BAD_REQUEST, httpx.codes.GONE):
            refused = _read(_CodeRefusedBody, response)
            if refused.error == "wrong_code":
                return WrongCode(refused.message, refused.attempts_left)
            if refused.error == "code_ended":
                return CodeEnded(refused.message)
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def request_correction(
        self,
        record_token: str,
        conversation_id: str,
        field: str,
        requested_value: str,
        note: str | None = None,
    ) -> CorrectionResult:
        """A correction request for an officer (``field``: name, phone or dose); never a direct change."""
        body: dict[str, object] = {
            "record_token": record_token,
            "conversation_id": conversation_id,
            "field": field,
            "requested_value": requested_value,
        }
        if note:
            body["note"] = note
        response = await self._post(CORRECTIONS_PATH, body)
        if response.status_code in (httpx.codes.OK, httpx.codes.CREATED):
            filed = _read(_FiledBody, response)
            return Filed(filed.reference, filed.message)
        if response.status_code == httpx.codes.CONFLICT:
            pending = _error_body(response)
            return AlreadyPending(pending.reference, pending.message)
        if response.status_code == httpx.codes.UNAUTHORIZED and not _service_token_refused(response):
            return RecordTokenRejected()
        if response.status_code == httpx.codes.UNPROCESSABLE_ENTITY:
            return Invalid(_error_body(response).message)
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def report_kipi(
        self,
        conversation_id: str,
        record_token: str | None,
        symptoms: str,
        onset: str,
        severity: str,
        place: str,
    ) -> KipiResult:
        """A side-effect report; with ``record_token`` tied to the record, else anonymous.

        A record token that expired while the person typed must not lose the report: it is sent
        again without one (anonymous) rather than asking a worried person to start over.
        """
        body: dict[str, object] = {
            "conversation_id": conversation_id,
            "symptoms": symptoms,
            "onset": onset,
            "severity": severity,
            "place": place,
        }
        if record_token:
            body["record_token"] = record_token
        response = await self._post(KIPI_PATH, body)
        if (
            response.status_code == httpx.codes.UNAUTHORIZED
            and record_token
            and not _service_token_refused(response)
        ):
            log.info("kipi report: the record token was refused; sending it without the record")
            body.pop("record_token")
            response = await self._post(KIPI_PATH, body)
        if response.status_code in (httpx.codes.OK, httpx.codes.CREATED):
            filed = _read(_FiledBody, response)
            return Filed(filed.reference, filed.message)
        if response.status_code == httpx.codes.UNPROCESSABLE_ENTITY:
            return Invalid(_error_body(response).message)
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def opt_out(self, conversation_id: str, source: str) -> OptStatus:
        """No more notices to this conversation's number, from now on."""
        return await self._opt(OPT_OUT_PATH, conversation_id, source)

    async def opt_in(self, conversation_id: str, source: str) -> OptStatus:
        return await self._opt(OPT_IN_PATH, conversation_id, source)

    async def _opt(self, path: str, conversation_id: str, source: str) -> OptStatus:
        response = await self._post(path, {"conversation_id": conversation_id, "source": source})
        if response.status_code == httpx.codes.OK:
            answer = _read(_OptBody, response)
            return OptStatus(answer.opted_out, answer.message)
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def resolve_notice(self, conversation_id: str, reference: str) -> Notice | None:
        """The notice ``reference`` names, only if it went to this conversation; else None (the registry
        answers unknown references and other people's alike)."""
        response = await self._post(
            RESOLVE_NOTICE_PATH, {"conversation_id": conversation_id, "reference": reference}
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code == httpx.codes.OK:
            found = _read(_NoticeBody, response)
            appointment = found.appointment
            return Notice(
                found.kind,
                found.campaign_name,
                found.sent_at,
                None
                if appointment is None
                else NoticeAppointment(
                    appointment.date,
                    appointment.time,
                    appointment.facility_name,
                    appointment.facility_address,
                ),
            )
        raise RegistryRefused(f"registry answered {response.status_code}")

    async def _post(self, path: str, body: Mapping[str, object]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        attempts = self._retries + 1
        async with httpx.AsyncClient(
            base_url=self._base_url, timeout=self._timeout, verify=tls_context()
        ) as client:
            for attempt in range(1, attempts + 1):
                try:
                    response = await client.post(path, json=body, headers=headers)
                except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                    reason = type(error).__name__
                except httpx.TimeoutException as error:
                    raise RegistryUnavailable(f"registry too slow ({type(error).__name__})") from None
                except httpx.HTTPError as error:
                    raise RegistryUnavailable(f"registry request failed ({type(error).__name__})") from None
                else:
                    if response.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
                        return response
                    reason = f"status {response.status_code}"
                    if _said_do_not_retry(response):
                        # e.g. the code could not be sent: a retry would send the person another one
                        raise RegistryUnavailable(f"registry answered {reason} ({_error_of(response)})")
                if attempt == attempts:
                    raise RegistryUnavailable(f"registry unavailable after {attempts} attempts ({reason})")
                delay = self._backoff_seconds * 2 ** (attempt - 1)
                log.warning(
                    "registry attempt %d of %d failed (%s); retrying in %.2f s",
                    attempt,
                    attempts,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover  # the loop returns or raises


# 5xx answers that a retry must not repeat: the registry did something with side effects already.
_DO_NOT_RETRY = frozenset({"code_unavailable"})


def _error_of(response: httpx.Response) -> str:
    """The registry's ``error`` field, or "" for a body that is not the registry's JSON."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def _error_body(response: httpx.Response) -> _ErrorBody:
    try:
        return _ErrorBody.model_validate_json(response.content)
    except ValidationError:
        return _ErrorBody()


def _service_token_refused(response: httpx.Response) -> bool:
    """A 401 for our own service token (a misconfiguration), not for the person's record token."""
    return _error_of(response) == SERVICE_TOKEN_REFUSED


SERVICE_TOKEN_REFUSED = "unauthorised"  # the registry's error code for a wrong service token


def _said_do_not_retry(response: httpx.Response) -> bool:
    return _error_of(response) in _DO_NOT_RETRY


def _schedule(response: httpx.Response) -> Schedule:
    try:
        found = _FoundBody.model_validate_json(response.content)
    except ValidationError:
        raise RegistryRefused("registry answered 200 with a body we cannot read") from None
    upcoming = found.next_appointment
    on_file = found.on_file
    return Schedule(
        name_masked=found.name_masked,
        doses=tuple(
            Dose(dose.dose_number, dose.vaccine_brand, dose.date, dose.facility)
            for dose in sorted(found.doses, key=lambda dose: dose.dose_number)
        ),
        next_appointment=None
        if upcoming is None
        else Appointment(
            upcoming.dose_number,
            upcoming.date,
            upcoming.time,
            upcoming.facility_name,
            upcoming.facility_address,
        ),
        record_token=found.record_token,
        on_file=None
        if on_file is None
        else OnFile(on_file.name_masked, on_file.phone_masked, on_file.birth_date_masked, on_file.district),
    )


def _read(model: type[_Body], response: httpx.Response) -> _Body:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise RegistryRefused(
            f"registry answered {response.status_code} with a body we cannot read"
        ) from None


def _locked(response: httpx.Response) -> Locked:
    try:
        body = _LockedBody.model_validate_json(response.content)
    except ValidationError:
        return Locked(message="", retry_after_seconds=None)
    return Locked(body.message, body.retry_after_seconds)
