"""Rasa's calls to the action server over kept-alive connections.

Rasa 3.6 opens a new aiohttp session, and with it a new TCP connection (through nginx when several
action servers run), for every custom action call (``EndpointConfig.request``): nearly every
message makes one. Under ``make load`` the connection set-up was ~2 % of a Rasa process's busy
samples (py-spy, 8 Dec 2026), besides the accept and the new connection in nginx and the action
server. Here the action endpoint's calls share one session per event loop, whose connections stay
open between calls; everything else of Rasa's call is unchanged (headers, auth, the timeout, its
error handling and its validation of the answer).

An idle connection is closed after ``KEEPALIVE_SECONDS``, before the action server's Sanic (5 s)
and nginx (75 s) close it on their side: a call never goes out on a connection the server has just
closed. A call is never repeated: an action may have done something (an officer asked for).

``install()`` runs with the live NLG (``rasa_project/nlg.py``); ``close()`` when the server stops
(the REST channel's ``after_server_stop``). Idempotent.
"""

from __future__ import annotations

import asyncio
from functools import wraps
from types import TracebackType
from typing import Any

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_SECONDS = 2.0
_INSTALLED = "_tanyavaksin_action_client"
# The pooled session of each endpoint, with the loop it belongs to (a session cannot change loops).
_POOLED = "_tanyavaksin_pooled_session"
_sessions: list[aiohttp.ClientSession] = []


class _Borrowed:
    """What ``EndpointConfig.request`` enters and leaves: the shared session, not closed after use."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


def _new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's own session settings (``EndpointConfig.session``), on a connector that keeps connections."""
    auth = (
        aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        if endpoint.basic_auth
        else None
    )
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )


def pooled(endpoint: EndpointConfig) -> None:
    """``endpoint``'s requests from now on share one session per event loop."""
    if _POOLED in endpoint.__dict__:
        return
    kept: dict[str, Any] = {}

    def session() -> _Borrowed:
        loop = asyncio.get_running_loop()
        current = kept.get("session")
        if current is None or current.closed or kept.get("loop") is not loop:
            current = _new_session(endpoint)
            kept.update(session=current, loop=loop)
            _sessions.append(current)
        return _Borrowed(current)

    endpoint.__dict__[_POOLED] = kept
    endpoint.session = session  # the instance's, read by request()


async def close() -> None:
    """Close the pooled sessions of the running loop (the server is stopping)."""
    loop = asyncio.get_running_loop()
    for session in [s for s in _sessions if getattr(s, "_loop", loop) is loop]:
        _sessions.remove(session)
        await session.close()


def install() -> None:
    if getattr(RemoteAction, _INSTALLED, False):
        return
    run = RemoteAction.run

    @wraps(run)
    async def run_pooled(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        if self.action_endpoint is not None:
            pooled(self.action_endpoint)
        return await run(self, *args, **kwargs)

    RemoteAction.run = run_pooled
    setattr(RemoteAction, _INSTALLED, True)
