"""The one client for sending template messages through the WhatsApp Cloud API.

Timeouts, retries and Meta's errors are handled here and nowhere else:
- 429, 5xx, no answer, and Meta's throttling codes (130429 throughput, 131056 pair rate limit,
  131000/131016 temporary) are retried with exponential backoff and full jitter, honouring a
  ``Retry-After`` header when Meta sends one; on 130429 the whole worker's token bucket waits.
- any other 4xx is permanent: the notice fails with Meta's error code as its reason.
Nothing here logs a number, a message body or Meta's answer (it echoes the number): only status
codes and Meta's error codes.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from services.registry.outreach.rate_limit import TokenBucket

log = logging.getLogger(__name__)

THROUGHPUT_REACHED = 130429
PAIR_RATE_LIMIT = 131056
TEMPORARY_CODES = frozenset({THROUGHPUT_REACHED, PAIR_RATE_LIMIT, 131000, 131016})
NOT_ON_WHATSAPP = 131026  # "Message undeliverable": the number has no WhatsApp account (among others)


@dataclass(frozen=True)
class Sent:
    message_id: str  # Meta's wamid; it encodes the number, so the caller keeps only a keyed hash of it
    retries: int


@dataclass(frozen=True)
class Refused:
    """Meta will not take this message (a 4xx but 429): sending it again changes nothing."""

    code: int | None  # Meta's error code, or None without one
    status: int
    retries: int

    @property
    def reason(self) -> str:
        return f"meta_{self.code}" if self.code is not None else f"http_{self.status}"


@dataclass(frozen=True)
class GaveUp:
    """Still throttled or down after every retry: the notice waits and is tried again later."""

    reason: str
    retries: int


SendResult = Sent | Refused | GaveUp


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 6
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0

    def delay(
        self, retry: int, retry_after: float | None, jitter: Callable[[], float] = random.random
    ) -> float:
        """Full jitter over an exponential ceiling; never sooner than Meta's Retry-After."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * 2**retry)
        delay = ceiling * (0.5 + jitter() / 2)
        return max(delay, retry_after) if retry_after is not None else delay


class GraphTemplateClient:
    """``POST {graph}/{phone_number_id}/messages`` with keep-alive connections, safe across threads."""

    def __init__(
        self,
        graph_api_url: str,
        access_token: str,
        phone_number_id: str,
        *,
        timeout_seconds: float,
        bucket: TokenBucket,
        policy: RetryPolicy,
        pool_size: int = 16,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = f"{graph_api_url.rstrip('/')}/{phone_number_id}/messages"
        self._bucket = bucket
        self._policy = policy
        self._sleep = sleep
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout_seconds,
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def send(self, message: dict[str, Any]) -> SendResult:
        """Send one message: Sent, Refused (permanent) or GaveUp (throttled or down every time)."""
        reason = "unreachable"
        retry_after: float | None = None
        for retry in range(self._policy.retries + 1):
            if retry:
                self._sleep(self._policy.delay(retry - 1, retry_after))
            self._bucket.acquire()
            retry_after = None
            try:
                response = self._http.post(self._url, json=message)
            except httpx.HTTPError as error:
                reason = "unreachable"
                log.warning("Graph API unreachable (%s); retrying", type(error).__name__)
                continue
            if response.status_code == httpx.codes.OK:
                message_id = _message_id(response)
                if message_id is None:
                    return Refused(None, response.status_code, retry)
                return Sent(message_id, retry)
            code = _error_code(response)
            retry_after = _retry_after(response)
            if response.status_code == 429 or response.status_code >= 500 or code in TEMPORARY_CODES:
                reason = f"meta_{code}" if code is not None else f"http_{response.status_code}"
                if code in (THROUGHPUT_REACHED, None) and response.status_code == 429:
                    self._bucket.hold(self._policy.delay(retry, retry_after))
                log.info("Graph API answered %s (code %s); backing off", response.status_code, code)
                continue
            log.warning("Graph API refused a template message: %s (code %s)", response.status_code, code)
            return Refused(code, response.status_code, retry)
        return GaveUp(reason, self._policy.retries)


def _message_id(response: httpx.Response) -> str | None:
    try:
        messages = response.json().get("messages") or []
        message_id = messages[0].get("id")
    except (ValueError, AttributeError, IndexError, TypeError):
        return None
    return message_id if isinstance(message_id, str) and message_id else None


def _error_code(response: httpx.Response) -> int | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
