"""A local stand-in for the WhatsApp Cloud API's ``POST /<version>/<phone-number-id>/messages``.

It answers like Meta (same success and error JSON), checks the message the way
Meta does (limits of buttons and lists included; text, image, interactive messages, and
template messages: authentication templates with a copy-code button, and utility/marketing
templates with body parameters and quick-reply buttons carrying payloads; given the approved
templates, also their names and parameter and button counts), records what the bot and the
registry sent, and can be told to fail the next sends with 429 or 5xx, or to answer a 429 storm
(Meta's 130429 throughput or 131056 pair rate limit) for a while or for N requests. Point the
channel's ``WHATSAPP_GRAPH_API_URL`` at ``http://127.0.0.1:<port>/v21.0``.

    python -m tests.harness.whatsapp.fake_graph_api --port 8089 [--access-token TOKEN] [--outreach-templates]

Control and read-back (what the user CLI and the tests use):
    GET  /_fake/messages?to=<phone>&since=<n>   messages accepted, oldest first, with their index
    GET  /_fake/attempts                        every POST, accepted or failed, with its status
    GET  /_fake/counts                          accepted messages per number, and answers per status
    POST /_fake/faults  {"statuses": [429, 500]}  the next sends get these answers, in order
    POST /_fake/storm   {"seconds": 2.0, "requests": 500, "code": 130429, "retry_after": 1}
                                                429 storm for that long or that many sends (either)
    POST /_fake/reset                           forget everything
"""

from __future__ import annotations

import argparse
import base64
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
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
MAX_BODY_PARAMETER = 1024  # a utility/marketing template's body parameter
MAX_BUTTON_PAYLOAD = 256  # a quick-reply button's payload
MAX_TEMPLATE_BUTTONS = 10
# Meta refuses body parameters with newlines or tabs, or with more than 4 consecutive spaces (132018).
_BAD_PARAMETER_SPACING = re.compile(r"[\n\t]| {5,}")
THROUGHPUT_REACHED = 130429
PAIR_RATE_LIMIT = 131056
STORM_ERRORS: dict[int, tuple[str, str]] = {
    THROUGHPUT_REACHED: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    PAIR_RATE_LIMIT: (
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from this phone number to the same phone number in a short period of time.",
    ),
}


@dataclass(frozen=True)
class ApprovedTemplate:
    """What WhatsApp Manager approved: Meta checks a send against it (132000 / 132001)."""

    body_parameters: int
    quick_replies: int


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


def _parameter_problems(parameter: dict[str, Any], limit: int) -> list[str]:
    text = parameter.get("text")
    if parameter.get("type") != "text" or not isinstance(text, str) or not text:
        return ["template parameters here are non-empty text"]
    if len(text) > limit:
        return [f"template parameter is longer than {limit} characters"]
    if limit > MAX_TEMPLATE_PARAMETER and _BAD_PARAMETER_SPACING.search(text):
        return ["template parameter has a newline, a tab or more than 4 consecutive spaces"]
    return []


def _button_component_problems(component: dict[str, Any], indexes: list[str]) -> list[str]:
    """A copy-code button (authentication: url, index 0) or a quick reply carrying a payload."""
    sub_type = component.get("sub_type")
    index = str(component.get("index"))
    if sub_type == "url":
        return (
            [] if index == "0" else ["an authentication template's copy-code button is sub_type url, index 0"]
        )
    if sub_type != "quick_reply":
        return [f"button sub_type {sub_type} is not supported by this fake"]
    problems = [] if index.isdigit() and int(index) < MAX_TEMPLATE_BUTTONS else ["button index is 0 to 9"]
    if index in indexes:
        problems.append("button indexes must be unique")
    indexes.append(index)
    parameters = component.get("parameters") or []
    payloads = [parameter.get("payload") for parameter in parameters if parameter.get("type") == "payload"]
    if len(parameters) != 1 or len(payloads) != 1:
        problems.append("a quick-reply button takes one payload parameter")
    elif not isinstance(payloads[0], str) or not payloads[0]:
        problems.append("a quick-reply payload is non-empty text")
    elif len(payloads[0]) > MAX_BUTTON_PAYLOAD:
        problems.append(f"a quick-reply payload is longer than {MAX_BUTTON_PAYLOAD} characters")
    return problems


def _template_problems(template: dict[str, Any]) -> list[str]:
    """A template: a name, a language, body parameters, and buttons (copy-code or quick replies)."""
    problems = (
        [] if isinstance(template.get("name"), str) and template["name"] else ["template name is required"]
    )
    if not (template.get("language") or {}).get("code"):
        problems.append("template language code is required")
    components = template.get("components") or []
    authentication = any(component.get("sub_type") == "url" for component in components)
    limit = MAX_TEMPLATE_PARAMETER if authentication else MAX_BODY_PARAMETER
    indexes: list[str] = []
    for component in components:
        kind = component.get("type")
        if kind not in {"header", "body", "button"}:
            problems.append(f"template component type {kind} is not valid")
        elif kind == "button":
            problems += _button_component_problems(component, indexes)
            if component.get("sub_type") == "url":
                for parameter in component.get("parameters") or []:
                    problems += _parameter_problems(parameter, MAX_TEMPLATE_PARAMETER)
        else:
            for parameter in component.get("parameters") or []:
                problems += _parameter_problems(parameter, limit)
    return problems


def approved_template_problems(
    template: dict[str, Any], approved: Mapping[str, ApprovedTemplate]
) -> str | None:
    """Meta's 132001 / 132000 check against the approved templates: None when it matches."""
    spec = approved.get(str(template.get("name")))
    if spec is None:
        return "template name does not exist in the translation"
    components = template.get("components") or []
    body = sum(len(c.get("parameters") or []) for c in components if c.get("type") == "body")
    quick = sum(1 for c in components if c.get("type") == "button" and c.get("sub_type") == "quick_reply")
    if body != spec.body_parameters or quick != spec.quick_replies:
        return "number of parameters does not match the expected number of params"
    return None


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

    def __init__(
        self,
        access_token: str | None = None,
        *,
        templates: Mapping[str, ApprovedTemplate] | None = None,
        keep_messages: bool = True,
    ) -> None:
        """``templates``: the approved templates (None: any name is taken). ``keep_messages`` False
        keeps counts only (a benchmark's 100,000 messages)."""
        self.access_token = access_token
        self.templates = templates
        self.keep_messages = keep_messages
        self._lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []
        self._attempts: list[dict[str, Any]] = []
        self._faults: deque[int] = deque()
        self._per_number: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._storm: tuple[float, int, int, float | None] | None = (
            None  # until, requests left, code, Retry-After
        )
        self.app = self._build_app()

    def counts(self) -> dict[str, Any]:
        """Accepted messages per number, and how many sends got each status."""
        with self._lock:
            return {
                "per_number": dict(self._per_number),
                "statuses": {str(status): count for status, count in self._statuses.items()},
            }

    def storm(
        self,
        *,
        seconds: float | None = None,
        requests: int | None = None,
        code: int = THROUGHPUT_REACHED,
        retry_after: float | None = None,
    ) -> None:
        """Answer every send with Meta's 429 ``code`` for ``seconds`` or ``requests`` sends (first to end)."""
        if code not in STORM_ERRORS:
            raise ValueError(f"a storm answers {sorted(STORM_ERRORS)}")
        until = time.monotonic() + seconds if seconds is not None else float("inf")
        left = requests if requests is not None else -1
        with self._lock:
            self._storm = (until, left, code, retry_after)

    def _storm_answer(self) -> JSONResponse | None:
        """The storm's 429 for this send, if one is on (called holding the lock)."""
        if self._storm is None:
            return None
        until, left, code, retry_after = self._storm
        if time.monotonic() >= until or left == 0:
            self._storm = None
            return None
        self._storm = (until, left - 1 if left > 0 else left, code, retry_after)
        message, details = STORM_ERRORS[code]
        response = meta_error(429, code, message, details)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

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
            self._per_number.clear()
            self._statuses.clear()
            self._storm = None

    def _answer(self, phone_number_id: str, authorization: str, message: dict[str, Any]) -> JSONResponse:
        with self._lock:
            response = self._check(phone_number_id, authorization, message)
            self._statuses[response.status_code] += 1
            if response.status_code != 200:
                return response
            wamid = "wamid." + base64.b64encode(secrets.token_bytes(36)).decode()
            self._per_number[str(message["to"])] += 1
            record = {
                "index": len(self._sent),
                "id": wamid,
                "phone_number_id": phone_number_id,
                "message": message,
            }
            self._sent.append(record if self.keep_messages else {"index": len(self._sent), "id": wamid})
        to = message["to"]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def _check(self, phone_number_id: str, authorization: str, message: dict[str, Any]) -> JSONResponse:
        """Meta's refusal of this send, or a bare 200 to fill in (called holding the lock)."""
        fault = self._faults.popleft() if self._faults else None
        attempt: dict[str, Any] = {"at": time.time(), "phone_number_id": phone_number_id}
        if self.keep_messages:
            attempt["message"] = message
            self._attempts.append(attempt)
        if self.access_token is not None and authorization != f"Bearer {self.access_token}":
            attempt["status"] = 401
            return meta_error(401, 190, "Invalid OAuth access token.", "The access token is not valid.")
        if fault is not None:
            attempt["status"] = fault
            return meta_error(fault, *FAULTS.get(fault, (131000, "Something went wrong", "Injected fault.")))
        storm = self._storm_answer()
        if storm is not None:
            attempt["status"] = 429
            return storm
        problems = message_problems(message)
        if problems:
            attempt["status"] = 400
            return meta_error(400, 131009, "(#131009) Parameter value is not valid", "; ".join(problems))
        if self.templates is not None and message.get("type") == "template":
            problem = approved_template_problems(message.get("template") or {}, self.templates)
            if problem is not None:
                attempt["status"] = 400
                code = 132001 if "exist" in problem else 132000
                return meta_error(400, code, f"(#{code}) {problem}", problem)
        attempt["status"] = 200
        return JSONResponse({})

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

        @app.get("/_fake/counts")
        async def counts() -> dict[str, Any]:
            return self.counts()

        @app.post("/_fake/storm")
        async def storm(body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
            self.storm(
                seconds=body.get("seconds"),
                requests=body.get("requests"),
                code=int(body.get("code", THROUGHPUT_REACHED)),
                retry_after=body.get("retry_after"),
            )
            return {"storm": body}

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
    parser.add_argument(
        "--outreach-templates", action="store_true", help="take only the outreach templates as approved"
    )
    parser.add_argument("--counts-only", action="store_true", help="keep counts, not messages (benchmarks)")
    arguments = parser.parse_args()
    print(f"Fake WhatsApp Cloud API on http://{arguments.host}:{arguments.port}/v21.0 (Ctrl-C stops it)")
    fake = FakeGraphApi(
        arguments.access_token,
        templates=outreach_templates() if arguments.outreach_templates else None,
        keep_messages=not arguments.counts_only,
    )
    uvicorn.run(fake.app, host=arguments.host, port=arguments.port, log_level="warning", access_log=False)


def outreach_templates() -> dict[str, ApprovedTemplate]:
    """The registry's outreach templates (services/registry/outreach/templates.py), as if approved."""
    from services.registry.outreach.templates import TEMPLATES

    return {
        name: ApprovedTemplate(len(template.parameters), len(template.buttons))
        for name, template in TEMPLATES.items()
    }


if __name__ == "__main__":
    main()
