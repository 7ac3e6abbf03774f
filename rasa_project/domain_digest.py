"""Rasa sends the domain to the action server once, then only its digest.

Rasa 3.6 puts the whole domain in every custom action call (``RemoteAction._action_call_format``):
98 KB of JSON here (every FAQ answer with its metadata), encoded by Rasa, passed through nginx and
decoded by the action server for each call, two calls in a schedule step. The action server's SDK
(rasa-sdk 3.21) already speaks the protocol newer Rasa versions use instead: a call carries a
``domain_digest``; the SDK keeps the last domain it was sent with its digest, and answers **449**
when a call has no domain and a digest it does not hold. Then Rasa sends the same call again with
the domain.

``install()`` teaches Rasa's ``RemoteAction`` that side: the digest always, the domain only after a
449. A new action server process (a restart, another instance behind nginx) or a new model (a new
domain, a new digest) costs one 449 and one call with the domain; nothing else changes, and the
actions see the same domain. Installed with the live NLG (``rasa_project/nlg.py``), like
``action_results``. Idempotent.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any

from rasa.core.actions.action import RemoteAction
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain

logger = logging.getLogger(__name__)

DOMAIN_KEY = "domain"
DIGEST_KEY = "domain_digest"
# What rasa-sdk answers to a call without a domain whose digest it does not hold.
DOMAIN_NEEDED_STATUS = 449
_INSTALLED = "_tanyavaksin_domain_digest"
# Set while a call is repeated with the domain (this task only).
_SEND_DOMAIN: ContextVar[bool] = ContextVar("tanyavaksin_send_domain", default=False)
# The domain last digested and its digest: a fingerprint is ~1 ms of JSON and hashing, and a
# process serves one domain at a time (a hot swap brings a new object).
_last: tuple[Domain, str] | None = None


def digest_of(domain: Domain) -> str:
    """Rasa's own fingerprint of the domain (stable across processes), computed once per domain."""
    global _last
    if _last is None or _last[0] is not domain:
        _last = (domain, domain.fingerprint())
    return _last[1]


def asked_for_the_domain(error: BaseException) -> bool:
    """Whether Rasa's error wraps the action server's 449 ("send the domain")."""
    cause = error.__cause__
    return isinstance(cause, ClientResponseError) and cause.status == DOMAIN_NEEDED_STATUS


def install() -> None:
    if getattr(RemoteAction, _INSTALLED, False):
        return
    call_format = RemoteAction._action_call_format
    run = RemoteAction.run

    @wraps(call_format)
    def action_call_format(self: RemoteAction, tracker: Any, domain: Domain) -> dict[str, Any]:
        body: dict[str, Any] = call_format(self, tracker, domain)
        body[DIGEST_KEY] = digest_of(domain)
        if not _SEND_DOMAIN.get():
            body.pop(DOMAIN_KEY, None)
        return body

    @wraps(run)
    async def run_with_digest(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except RasaException as error:
            if not asked_for_the_domain(error):
                raise
        logger.debug("Action server asked for the domain: calling %s again with it", self.name())
        token = _SEND_DOMAIN.set(True)
        try:
            return await run(self, *args, **kwargs)
        finally:
            _SEND_DOMAIN.reset(token)

    RemoteAction._action_call_format = action_call_format
    RemoteAction.run = run_with_digest
    setattr(RemoteAction, _INSTALLED, True)
