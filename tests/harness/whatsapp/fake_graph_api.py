"""A local stand-in for the WhatsApp Cloud API's ``POST /<version>/<phone-number-id>/messages``.

It answers like Meta (same success and error JSON), checks the message the way
Meta does (limits of buttons and lists included; text, image, interactive and
authentication-template messages), records what the bot and the registry sent, and
can be told to fail the next sends with 429 or 5xx. Point the channel's
``WHATSAPP_GRAPH_API_URL`` at ``http://127.0.0.1:<port>/v21.0``.

    python -m tests.harness.whatsapp.fake_graph_api --port 8089 [--access-token TOKEN]

Control and read-back (what the user CLI and the tests use):
    GET  /_fake/messages?to=<phone>&since=<n>   messages accepted, oldest first, with their index
    GET  /_fake/attempts                        every POST, accepted or failed, with its status
    POST /_fake/faults  {"statuses": [429, 500]}  the next sends get these answers, in order
    POST /_fake/reset                           forget everything
"""

from __future__ import annotations

import argparse
import base64
import secrets
import threading
import time
from collections import deque
from typing import Any

import uvicorn
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

MAX_TEXT = 4096
MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_LIST_BUTTON = 20
MAX_TEMPLATE_PARAMETER = 15  # an authentication code is at most 15 characters

# What Meta answers for the failures we simulate: (error code, message, details).
FAULTS: dict[int, tuple[int, str, str]] = {
    429: (130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    500: (131000, "Something went wrong", "Something went wrong. Please try again later."),
    502: (131000, "Something went wrong", "Bad gateway."),
    503: (131016, "Service unavailable", "A service is temporarily unavailable."),
}


def meta_error(status: int, code: int, message: str, details: str) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details},
                "fbtrace_id": secrets.token_urlsafe(12),
            }
        },
    )


def _too_long(what: str, value: object, limit: int) -> list[str]:
    text = value if isinstance(value, str) else ""
    if not text:
        return [f"{what} is required"]
    return [f"{what} is longer than {limit} characters"] if len(text) > limit else []


def _button_problems(action: dict[str, Any]) -> list[str]:
    buttons = action.get("buttons") or []
    problems = [] if 1 <= len(buttons) <= MAX_BUTTONS else [f"buttons must be 1 to {MAX_BUTTONS}"]
    for button in buttons:
        reply = button.get("reply") or {}
        problems += _too_long("button title", reply.get("title"), MAX_BUTTON_TITLE)
        problems += _too_long("button id", reply.get("id"), MAX_BUTTON_ID)
    titles = [(button.get("reply") or {}).get("title") for button in buttons]
    if len(set(titles)) != len(titles):
        problems.append("button titles must be unique")
    return problems


def _list_problems(action: dict[str, Any]) -> list[str]:
    problems = _too_long("list button", action.get("button"), MAX_LIST_BUTTON)
    sections = action.get("sections") or []
    rows = [row for section in sections for row in section.get("rows") or []]
    if not 1 <= len(rows) <= MAX_ROWS:
        problems.append(f"a list holds 1 to {MAX_ROWS} rows")
    if len(sections) > 1 and not all(section.get("title") for section in sections):
        problems.append("every section needs a title when there are several")
    for row in rows:
        problems += _too_long("row title", row.get("title"), MAX_ROW_TITLE)
        problems += _too_long("row id", row.get("id"), MAX_ROW_ID)
        if len(str(row.get("description", ""))) > MAX_ROW_DESCRIPTION:
            problems.append(f"row description is longer than {MAX_ROW_DESCRIPTION} characters")
    ids = [row.get("id") for row in rows]
    if len(set(ids)) != len(ids):
        problems.append("row ids must be unique")
    return problems


def _template_problems(template: dict[str, Any]) -> list[str]:
    """An authentication template: a name, a language, and the code in the body and its copy-code button."""
    problems = (
        [] if isinstance(template.get("name"), str) and template["name"] else ["template name is required"]
    )
    if not (template.get("language") or {}).get("code"):
        problems.append("template language code is required")
    for component in template.get("components") or []:
        parameters = component.get("parameters") or []
        if component.get("type") not in {"header", "body", "button"}:
            problems.append(f"template component type {component.get('type')} is not valid")
        if component.get("type") == "button" and (
            component.get("sub_type") != "url" or str(component.get("index")) != "0"
        ):
            problems.append("an authentication template's copy-code button is sub_type url, index 0")
        for parameter in parameters:
            if parameter.get("type") != "text" or not parameter.get("text"):
                problems.append("template parameters here are non-empty text")
            elif len(parameter["text"]) > MAX_TEMPLATE_PARAMETER:
                problems.append(f"template parameter is longer than {MAX_TEMPLATE_PARAMETER} characters")
    return problems


def message_problems(message: dict[str, Any]) -> list[str]:
    """Why Meta would refuse this message (error 131009 / 100); empty when it would take it."""
    if message.get("messaging_product") != "whatsapp":
        return ["messaging_product must be whatsapp"]
    if not isinstance(message.get("to"), str) or not message["to"]:
        return ["to is required"]
    kind = message.get("type", "text")
    if kind == "text":
        return _too_long("text body", (message.get("text") or {}).get("body"), MAX_TEXT)
    if kind == "image":
        return (
            []
            if (message.get("image") or {}).get("link") or message["image"].get("id")
            else ["image needs a link"]
        )
    if kind == "template":
        return _template_problems(message.get("template") or {})
    if kind != "interactive":
        return [f"type {kind} is not supported by this fake"]
    interactive = message.get("interactive") or {}
    problems = _too_long("interactive body", (interactive.get("body") or {}).get("text"), MAX_BODY)
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return problems + _button_problems(action)
    if interactive.get("type") == "list":
        return problems + _list_problems(action)
    return [*problems, f"interactive type {interactive.get('type')} is not supported by this fake"]


class FakeGraphApi:
    """The fake's state (thread-safe: tests read it while the server thread writes)."""

    def __init__(self, access_token: str | None = None) -> None:
        self.access_token = access_token
        self._lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []
        self._attempts: list[dict[str, Any]] = []
        self._faults: deque[int] = deque()
        self.app = self._build_app()

    def sent(self, to: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            records = self._sent[since:]
        return [record for record in records if to is None or record["message"].get("to") == to]

    def attempts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._attempts)

    def fail_next(self, *statuses: int) -> None:
        with self._lock:
            self._faults.extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._attempts.clear()
            self._faults.clear()

    def _answer(self, phone_number_id: str, authorization: str, message: dict[str, Any]) -> JSONResponse:
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
            attempt: dict[str, Any] = {
                "at": time.time(),
                "phone_number_id": phone_number_id,
                "message": message,
            }
            self._attempts.append(attempt)
            if self.access_token is not None and authorization != f"Bearer {self.access_token}":
                attempt["status"] = 401
                return meta_error(401, 190, "Invalid OAuth access token.", "The access token is not valid.")
            if fault is not None:
                attempt["status"] = fault
                return meta_error(
                    fault, *FAULTS.get(fault, (131000, "Something went wrong", "Injected fault."))
                )
            problems = message_problems(message)
            if problems:
                attempt["status"] = 400
                return meta_error(400, 131009, "(#131009) Parameter value is not valid", "; ".join(problems))
            wamid = "wamid." + base64.b64encode(secrets.token_bytes(36)).decode()
            attempt["status"] = 200
            self._sent.append(
                {
                    "index": len(self._sent),
                    "id": wamid,
                    "phone_number_id": phone_number_id,
                    "message": message,
                }
            )
        to = message["to"]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Fake WhatsApp Cloud API")

        @app.post("/{version}/{phone_number_id}/messages")
        async def send(version: str, phone_number_id: str, request: Request) -> JSONResponse:
            try:
                message = await request.json()
            except ValueError:
                return meta_error(400, 100, "Invalid parameter", "The body is not JSON.")
            if not isinstance(message, dict):
                return meta_error(400, 100, "Invalid parameter", "The body is not an object.")
            return self._answer(phone_number_id, request.headers.get("authorization", ""), message)

        @app.get("/_fake/messages")
        async def messages(to: str | None = None, since: int = 0) -> list[dict[str, Any]]:
            return self.sent(to, since)

        @app.get("/_fake/attempts")
        async def attempts() -> list[dict[str, Any]]:
            return self.attempts()

        @app.post("/_fake/faults")
        async def faults(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
            self.fail_next(*[int(status) for status in body.get("statuses", [])])
            return {"queued": body.get("statuses", [])}

        @app.post("/_fake/reset")
        async def reset() -> dict[str, str]:
            self.reset()
            return {"status": "reset"}

        return app


class FakeGraphApiThread:
    """The fake served from a background thread, for tests and scripts in the same process."""

    def __init__(self, fake: FakeGraphApi, port: int, host: str = "127.0.0.1") -> None:
        self.fake = fake
        self.base_url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(fake.app, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="fake-graph-api", daemon=True)

    def start(self) -> FakeGraphApiThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake Graph API did not start at {self.base_url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--access-token", default=None, help="refuse sends without this bearer token (401)")
    arguments = parser.parse_args()
    print(f"Fake WhatsApp Cloud API on http://{arguments.host}:{arguments.port}/v21.0 (Ctrl-C stops it)")
    uvicorn.run(FakeGraphApi(arguments.access_token).app, host=arguments.host, port=arguments.port)


if __name__ == "__main__":
    main()
