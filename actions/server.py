"""The action server as ``make run`` starts it: rasa-sdk's app, callable only by Rasa.

``python -m actions.server`` (settings: actions/settings.py ``ActionSettings``).

rasa-sdk 3.21.1 has no authentication on its HTTP server (TLS and, for gRPC only, client
certificates) and listens on ``SANIC_HOST`` or 0.0.0.0. Anyone who reached it could run
``validate_schedule_form`` and ``action_lookup_schedule`` with their own tracker and read any
record (issue #11.3). So this entry point builds rasa-sdk's own app and adds:

- a bearer token on every route but ``/health``, compared in constant time;
- a loopback address by default;
- a ``/health`` that stays open and 200 (the supervisor and the tests wait on it) but says what
  works: the semantic search loaded, the registry reachable. ``degraded`` means the assistant
  answers, with less: the menu instead of "did you mean", an apology instead of a schedule.

It runs in a single process, so the supervisor's pid is the server's (no Sanic worker left behind
when it is killed and restarted).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import httpx
from rasa_sdk import utils
from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import semantic_search
from actions.registry_client import tls_context
from actions.settings import ActionSettings, SettingsError, load_server_settings

log = logging.getLogger("actions.server")  # also when run as __main__

ACTIONS_PACKAGE = "actions"
HEALTH_PATH = "/health"
_BEARER = "Bearer "


def is_authorised(header: str | None, token: str) -> bool:
    """Whether ``Authorization`` carries the shared token; the comparison takes the same time for any
    wrong token of the same length, so it cannot be guessed one character at a time."""
    presented = header[len(_BEARER) :] if header and header.startswith(_BEARER) else ""
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), token.encode())


async def registry_status(settings: ActionSettings) -> str:
    """``ok``, ``unreachable`` (down, slow or failing) or ``not configured`` (no service token)."""
    if not settings.registry_service_token.get_secret_value():
        return "not configured"
    try:
        async with httpx.AsyncClient(
            timeout=settings.action_server_health_timeout_seconds, verify=tls_context()
        ) as client:
            answer = await client.get(f"{settings.registry_url.rstrip('/')}/health")
    except httpx.HTTPError:
        return "unreachable"
    return "ok" if answer.status_code == 200 else "unreachable"


async def health_report(settings: ActionSettings) -> dict[str, Any]:
    search = semantic_search.status()
    registry = await registry_status(settings)
    status = "ok" if search == "loaded" and registry == "ok" else "degraded"
    return {"status": status, "semantic_search": search, "registry": registry}


def secure_app(app: Sanic, settings: ActionSettings) -> Sanic:
    """rasa-sdk's app behind the token, with the health report in place of its plain ``ok``.

    Request middleware runs before any route handler, so a request without the token never
    reaches an action; returning the report from it replaces rasa-sdk's ``/health`` route.
    """
    token = settings.action_server_token.get_secret_value()

    async def guard(request: Request) -> HTTPResponse | None:
        if request.path == HEALTH_PATH:
            return response.json(await health_report(settings))
        if not is_authorised(request.headers.get("authorization"), token):
            log.warning("action server: refused a request without the right token (%s)", request.path)
            return response.json(
                {"error": "unauthorised"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    app.register_middleware(guard, "request")
    return app


def build_app(settings: ActionSettings) -> Sanic:
    """The app with every action of the ``actions`` package, no CORS (no browser calls it)."""
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    # No tracing configuration: by default rasa-sdk reads the "tracing" key of ./endpoints.yml and
    # logs an ERROR at every start when there is no such file (there is none: Rasa's endpoints live in
    # rasa_project/). An empty path is the SDK's own "not configured".
    app = create_app_for_serve(executor, cors_origins=None, endpoints="")
    app.register_listener(_preload_search, "before_server_start")
    return secure_app(app, settings)


async def _preload_search(*_: object) -> None:
    """Load the model and index in the background now, so the first uncertain message does not wait."""
    semantic_search.preload()


def main() -> None:
    utils.configure_colored_logging(None)
    utils.update_sanic_log_level()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health check otherwise
    try:
        settings = load_server_settings()
    except SettingsError as error:
        raise SystemExit(f"The action server cannot start: {error}") from None
    app = build_app(settings)
    log.info(
        "Action server on http://%s:%d (token required)", settings.action_server_host, settings.action_port
    )
    app.prepare(host=settings.action_server_host, port=settings.action_port, single_process=True)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
