"""What a phone receives, exactly: the Graph API requests for an answer, a "did you mean", the menu and a
schedule result.

Each case starts from what the actions really send (tests/actions/snapshots/uttered.json), is
rendered by Rasa's code with the domain files and the deployed generator (tests/rasa_project/rendering.py),
and goes out through the channel's own output (``WhatsAppOutput`` → ``GraphApiClient`` over HTTP to a
Graph API stand-in). The request bodies are compared with ``snapshots/whatsapp_<case>.json``: a change
in what people see shows up in review as a diff of those files. ``UPDATE_SNAPSHOTS=1`` rewrites them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from rasa_project.channels.graph_api import GraphApiClient, RetryPolicy
from rasa_project.channels.limits import MAX_BUTTON_TITLE, MAX_INTERACTIVE_BODY, MAX_ROW_DESCRIPTION
from rasa_project.channels.output import WhatsAppOutput
from tests.harness.whatsapp.payloads import DEFAULT_PHONE_NUMBER_ID
from tests.rasa_project.channels.conftest import GraphStub
from tests.rasa_project.rendering import (
    PLACEHOLDER,
    NamedChannel,
    Recorded,
    deployed_nlg,
    fresh_tracker,
    load_domain,
    load_uttered,
    people_get,
    render,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
PHONE = "6281200000000"  # a made-up recipient: the channel puts it in every request's "to"
# Each case: the recorded action paths, in the order a person meets them.
CASES: dict[str, tuple[str, ...]] = {
    "answer": ("topic button biaya",),
    "did_you_mean": ("uncertain, did you mean two topics",),
    "menu": ("menu typed",),
    "schedule_result": ("schedule found",),
    "schedule_code_sent": ("schedule code sent", "schedule code step, the form asks for the code"),
    "schedule_locked": ("schedule locked",),
}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def nlg(domain: Domain) -> NaturalLanguageGenerator:
    return deployed_nlg(domain)


@pytest.fixture(scope="module")
def uttered() -> Recorded:
    return load_uttered()


async def whatsapp_requests(
    paths: tuple[str, ...], uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> list[dict[str, Any]]:
    """The Graph API requests the channel makes for recorded action paths (and the form's questions)."""
    client = GraphApiClient(
        graph.base_url, DEFAULT_PHONE_NUMBER_ID, "access-token", RetryPolicy(max_attempts=1)
    )
    output = WhatsAppOutput(client, PHONE, conversation="snapshot")
    try:
        for path in paths:
            for bot in await render(people_get(domain, uttered[path]), nlg, fresh_tracker(domain), output):
                await output.send_response("snapshot", bot.message())
    finally:
        await client.close()
    assert all(outcome.delivered for outcome in output.outcomes)
    return graph.requests


def matches_snapshot(case: str, requests: list[dict[str, Any]]) -> None:
    path = SNAPSHOTS / f"whatsapp_{case}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(requests, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == requests


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def shown_strings(request: dict[str, Any]) -> list[str]:
    """What the phone displays: every string but the ids (payloads) and the envelope."""
    message = {key: value for key, value in request.items() if key not in ("messaging_product", "to")}
    return strings_in(strip_ids(message))


def strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: strip_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [strip_ids(item) for item in value]
    return value


def bold_spans(text: str) -> list[str]:
    """WhatsApp's *bold*: from a "*" to the next "*" on the same line."""
    return re.findall(r"\*([^*\n]+)\*", text)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_what_whatsapp_shows_matches_its_snapshot(
    case: str, uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> None:
    requests = await whatsapp_requests(CASES[case], uttered, domain, nlg, graph)
    assert requests, "nothing was sent"
    for request in requests:
        assert request["to"] == PHONE
        for text in shown_strings(request):
            assert not PLACEHOLDER.findall(text), f"{case}: {text[:80]!r}"
    matches_snapshot(case, requests)


async def test_an_answer_is_one_bubble_with_the_menu_button_under_it(
    uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> None:
    [request] = await whatsapp_requests(CASES["answer"], uttered, domain, nlg, graph)
    interactive = request["interactive"]
    assert interactive["type"] == "button"
    assert len(interactive["body"]["text"]) <= MAX_INTERACTIVE_BODY
    [answer] = await render(
        uttered[CASES["answer"][0]]["messages"], nlg, fresh_tracker(domain), NamedChannel("whatsapp")
    )
    assert interactive["body"]["text"] == str(answer.text).strip()
    assert interactive["body"]["text"].startswith(str(domain.responses["utter_faq/biaya"][0]["text"])[:40])
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/show_menu", "title": "Menu lainnya"}}
    ]


async def test_a_did_you_mean_numbers_the_options_as_its_reply_buttons(
    uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> None:
    [request] = await whatsapp_requests(CASES["did_you_mean"], uttered, domain, nlg, graph)
    interactive = request["interactive"]
    assert interactive["type"] == "button"
    titles = [button["reply"]["title"] for button in interactive["action"]["buttons"]]
    assert titles == ["Biaya vaksin", "Lokasi vaksinasi", "Menu lainnya"]
    assert all(len(title) <= MAX_BUTTON_TITLE for title in titles)
    numbered = re.findall(r"^(\d)\. (.+)$", interactive["body"]["text"], flags=re.MULTILINE)
    assert numbered == [("1", "Biaya vaksin"), ("2", "Lokasi vaksinasi"), ("3", "Menu lainnya")]
    assert [button["reply"]["id"] for button in interactive["action"]["buttons"]] == [
        '/faq_choice{"topic":"biaya"}',
        '/faq_choice{"topic":"lokasi"}',
        "/show_menu",
    ]


async def test_the_menu_is_a_list_whose_rows_send_the_payloads(
    uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> None:
    [request] = await whatsapp_requests(CASES["menu"], uttered, domain, nlg, graph)
    interactive = request["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Pilih topik"
    [section] = interactive["action"]["sections"]
    rows = section["rows"]
    assert [row["id"] for row in rows] == [b["payload"] for b in domain.responses["utter_menu"][0]["buttons"]]
    assert all(len(row.get("description", "")) <= MAX_ROW_DESCRIPTION for row in rows)
    assert all("{" not in row.get("description", "") for row in rows)


async def test_a_schedule_result_keeps_its_bold_lines_whole(
    uttered: Recorded, domain: Domain, nlg: NaturalLanguageGenerator, graph: GraphStub
) -> None:
    """The masked name sits inside "*...*": a mask of stars would break the bold and show stray stars."""
    [request, offer] = await whatsapp_requests(CASES["schedule_result"], uttered, domain, nlg, graph)
    body = request["text"]["body"]
    assert [b["reply"]["title"] for b in offer["interactive"]["action"]["buttons"]] == ["Cek data saya"]
    first_line = body.splitlines()[0]
    assert bold_spans(first_line) == ["Data vaksinasi B••• S•••••o"]
    assert first_line.count("*") == 2
    assert bold_spans(body) == ["Data vaksinasi B••• S•••••o", "Jadwal berikutnya: dosis 3"]
    assert "Senin, 21 Desember 2026 pukul 09.00" in body
