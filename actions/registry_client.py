"""The action server's client for the registry lookup API (services/registry, ``POST /v1/lookup``).

Answers become typed results: a schedule, "no match" (unknown NIK and wrong birth date look the
same), "locked", or "code sent" (WhatsApp from another number than the one on file); the code the
person then types goes to ``POST /v1/lookup/code``: a schedule, "wrong code", "code ended" or
"locked". Trouble becomes an exception the caller turns into an apology. Only
failures where the request surely did not count are retried: a connection that never opened,
and 5xx. A read timeout is not: the registry may have recorded a failed check, and retrying
would count it twice towards the lockout and keep the person waiting longer. 4xx is our own
mistake and never improves on retry. Nothing logged here carries the NIK or the birth date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from actions.settings import ActionSettings

log = logging.getLogger(__name__)

LOOKUP_PATH = "/v1/lookup"
_Body = TypeVar("_Body", bound=BaseModel)
CODE_PATH = "/v1/lookup/code"


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
class Schedule:
    """The person's record: the name comes masked (``B••• S•••••o``)."""

    name_masked: str
    doses: tuple[Dose, ...]
    next_appointment: Appointment | None


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


LookupResult = Schedule | NoMatch | Locked | CodeSent
CodeResult = Schedule | WrongCode | CodeEnded | Locked


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


class _FoundBody(BaseModel):
    name_masked: str
    doses: list[_DoseBody]
    next_appointment: _AppointmentBody | None


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

    async def _post(self, path: str, body: dict[str, str]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        attempts = self._retries + 1
        async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout) as client:
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


def _said_do_not_retry(response: httpx.Response) -> bool:
    return _error_of(response) in _DO_NOT_RETRY


def _schedule(response: httpx.Response) -> Schedule:
    try:
        found = _FoundBody.model_validate_json(response.content)
    except ValidationError:
        raise RegistryRefused("registry answered 200 with a body we cannot read") from None
    upcoming = found.next_appointment
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
