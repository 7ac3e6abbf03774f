"""Sending messages through the WhatsApp Cloud API (Graph API ``/<phone-number-id>/messages``).

All timeouts and retries live here. Meta answers 429 (and some 4xx error codes)
when we send too fast and 5xx when it has trouble; both usually pass, so they
are retried with exponential backoff, a bounded number of times. What still
fails is logged as lost, without the phone number, so an operator can follow up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from rasa_project.channels.messages import GraphMessage, describe

logger = logging.getLogger(__name__)

# Meta error codes that mean "not now" rather than "never": rate limits and temporary outages.
RETRYABLE_ERROR_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take and how often a failed one is tried again."""

    max_attempts: int = 5
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    timeout_seconds: float = 10.0

    def backoff(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the n-th failure: doubling, jittered, capped; Retry-After wins if sent."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff_seconds)
        exponential = self.first_backoff_seconds * 2 ** (failed_attempts - 1)
        return float(min(self.max_backoff_seconds, exponential * random.uniform(0.75, 1.25)))


@dataclass(frozen=True)
class Outcome:
    """What happened to one send: delivered, or why not (for the log of what was lost)."""

    delivered: bool
    attempts: int
    status: int | None = None
    reason: str = ""


def _error_of(body: str) -> tuple[int | None, str]:
    """Meta's error code and message from a Graph API error body, if it has one."""
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return None, body[:200]
    if not isinstance(error, Mapping):
        return None, body[:200]
    code = error.get("code")
    details = (
        error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    message = str(error.get("message", "")) + (f" ({details})" if details else "")
    return (code if isinstance(code, int) else None), message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def is_retryable(status: int, error_code: int | None) -> bool:
    return status == 429 or status >= 500 or error_code in RETRYABLE_ERROR_CODES


class GraphApiClient:
    """One HTTP session per channel; ``send`` never raises, it reports and logs."""

    def __init__(
        self,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.messages_url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._access_token = access_token
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout_seconds),
                headers={"Authorization": f"Bearer {self._access_token}"},
            )
        return self._session

    async def _attempt(self, body: dict[str, Any]) -> tuple[int | None, int | None, str, float | None]:
        """One POST: (HTTP status, Meta error code, reason, Retry-After); status None if it never answered."""
        try:
            async with self._http().post(self.messages_url, json=body) as response:
                text = await response.text()
                if response.status < 400:
                    return response.status, None, "", None
                code, message = _error_of(text)
                return (
                    response.status,
                    code,
                    f"HTTP {response.status} code {code}: {message}",
                    _retry_after(response.headers),
                )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return None, None, f"{type(error).__name__}: {error}", None

    async def send(self, recipient: str, message: GraphMessage, conversation: str) -> Outcome:
        """Sends one message to ``recipient`` (a phone number), retrying what may pass later."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient, **message}
        status: int | None = None
        reason = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            status, code, reason, retry_after = await self._attempt(body)
            if status is not None and status < 400:
                return Outcome(True, attempt, status)
            retryable = status is None or is_retryable(status, code)
            if not retryable or attempt == self.policy.max_attempts:
                break
            delay = self.policy.backoff(attempt, retry_after)
            logger.warning(
                "WhatsApp send to conversation %s failed (%s), attempt %d of %d; retrying in %.1fs",
                conversation,
                reason,
                attempt,
                self.policy.max_attempts,
                delay,
            )
            await self._sleep(delay)
        logger.error(
            "WhatsApp message LOST for conversation %s after %d attempt(s): %s. Lost message: %s",
            conversation,
            attempt,
            reason,
            describe(message),
        )
        return Outcome(False, attempt, status, reason)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
