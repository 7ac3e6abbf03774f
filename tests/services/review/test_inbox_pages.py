"""The NLU inbox pages: grouped messages, decisions, and the export into a copy of data/."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from core.nlu_yaml import example_lines
from services.review.export import EXPORT_FILE
from services.review.settings import ReviewSettings
from services.review.training_data import normalize
from tests.services.review.conftest import AppFactory
from tests.services.review.support import ADMIN, REVIEWER, csrf_token, page_text, sign_in, write_events

ROOT = Path(__file__).resolve().parents[3]
T0 = 1767340800.0  # 2026-01-02 08:00 UTC, between the snapshots and the test clock


def user_event(
    at: float,
    text: str,
    intent: str,
    confidence: float,
    topic: str | None = None,
    topic_confidence: float | None = None,
    channel: str = "whatsapp",
) -> dict[str, Any]:
    """A ``user`` event as Rasa 3.6 writes it (UserUttered.as_dict), with a response selector for FAQ."""
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if topic is not None:
        response = {
            "id": None,
            "responses": [{"text": "..."}],
            "response_templates": [{"text": "..."}],
            "confidence": topic_confidence,
            "intent_response_key": topic,
            "utter_action": f"utter_{topic}",
            "template_name": f"utter_{topic}",
        }
        parse["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {"response": response, "ranking": [{**response}]},
        }
    return {
        "event": "user",
        "timestamp": at,
        "text": text,
        "parse_data": parse,
        "input_channel": channel,
        "message_id": f"m{int(at * 1000)}",
        "metadata": {},
    }


def bot_event(at: float, response: str, text: str = "...") -> dict[str, Any]:
    return {"event": "bot", "timestamp": at, "text": text, "data": {}, "metadata": {"utter_action": response}}


def listen(at: float) -> dict[str, Any]:
    return {"event": "action", "timestamp": at, "name": "action_listen", "policy": None, "confidence": None}


def conversation(start: float, turns: list[tuple[dict[str, Any], str]]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"event": "action", "timestamp": start, "name": "action_session_start"},
        {"event": "session_started", "timestamp": start + 0.001},
        listen(start + 0.002),
    ]
    for number, (user, response) in enumerate(turns):
        at = start + 30 * (number + 1)
        events += [{**user, "timestamp": at}, bot_event(at + 0.3, response), listen(at + 0.4)]
    return events


COST = "vaksin booster di puskesmas bayar gak ya"
COST_AGAIN = "Vaksin booster di puskesmas BAYAR gak ya??"
CAT = "vaksin buat kucing peliharaan ada ga"
TRAVEL = "mau ke malaysia perlu vaksin apa"
MASK = "masih wajib pakai masker setelah divaksin?"
CHAT_ONLY = "pesan percobaan dari review chat"


@pytest.fixture(autouse=True)
def inbox_data(settings: ReviewSettings, tracker_url: str) -> None:
    """A copy of the project's data/ (the export writes there) and a few more real-looking chats."""
    shutil.copytree(ROOT / "data", settings.data_dir)
    write_events(
        tracker_url,
        "wa_5551c0ffee01",
        conversation(
            T0,
            [
                (user_event(0, COST, "faq", 0.9, "faq/biaya", 0.35), "utter_faq/biaya"),
                (user_event(0, CAT, "nlu_fallback", 0.12), "utter_uncertain_answer"),
                (user_event(0, MASK, "faq", 0.93, "faq/efektivitas", 0.88), "utter_faq/efektivitas"),
            ],
        ),
    )
    write_events(
        tracker_url,
        "web-77aa",
        conversation(
            T0 + 600,
            [
                (user_event(0, COST_AGAIN, "faq", 0.8, "faq/biaya", 0.52, "rest"), "utter_faq/biaya"),
                (user_event(0, TRAVEL, "faq", 0.7, "faq/perjalanan", 0.44, "rest"), "utter_faq/perjalanan"),
                (user_event(0, "2", "choose_option", 1.0, None, None, "rest"), "utter_faq/perjalanan"),
            ],
        ),
    )
    write_events(
        tracker_url,
        "review-rita-abc123",  # the review app's own test chat: never in the inbox
        conversation(T0 + 900, [(user_event(0, CHAT_ONLY, "nlu_fallback", 0.05, None, None, "rest"), "x")]),
    )


Row = dict[str, str]
_ROW = re.compile(
    r'<tr id="group-(?P<id>\d+)">.*?<td class="inbox-text">(?P<text>.*?)</td>\s*'
    r'<td class="inbox-count">(?P<count>\d+)</td>\s*<td class="inbox-predicted">(?P<predicted>.*?)</td>\s*'
    r'<td class="inbox-confidence">(?P<confidence>.*?)</td>',
    re.DOTALL,
)


def rows(client: TestClient, path: str = "/inbox") -> list[Row]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return [
        {key: html.unescape(value) for key, value in match.groupdict().items()}
        for match in _ROW.finditer(page.text)
    ]


def group_id(client: TestClient, text: str) -> str:
    for row in rows(client):
        if normalize(row["text"]) == normalize(text):
            return row["id"]
    raise AssertionError(f"{text!r} is not in the inbox")


def decide(client: TestClient, action: str, ids: list[str], label: str = "", **extra: Any) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/inbox"), "action": action, "group": ids}
    if label:
        data["label"] = label
    return client.post("/inbox/decide", data={**data, **extra}, follow_redirects=False)


def export(client: TestClient) -> Any:
    return client.post("/inbox/export", data={"csrf_token": csrf_token(client, "/inbox/approved")})


def reviewed_examples(data_dir: Path) -> dict[str, list[str]]:
    path = data_dir / EXPORT_FILE
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {item["intent"]: list(example_lines(item["examples"])) for item in document["nlu"]}


def test_inbox_groups_unknown_messages_least_confident_first(reviewer: TestClient) -> None:
    found = rows(reviewer)
    texts = [normalize(row["text"]) for row in found]

    assert normalize(COST) in texts and texts.count(normalize(COST)) == 1
    cost = next(row for row in found if normalize(row["text"]) == normalize(COST))
    assert cost["count"] == "2"
    assert cost["confidence"] == "0.35"  # the lowest of its occurrences
    assert cost["predicted"].endswith("[faq/biaya]") and "biaya" in cost["predicted"]
    confidences = [float(row["confidence"]) for row in found]
    assert confidences == sorted(confidences)
    assert confidences[0] == 0.12  # the cat, a fallback
    # not here: known training examples, the review chat, payloads, option numbers, external intents
    for absent in ("terima kasih", "booster kedua kapan ya", "halo", CHAT_ONLY, "2", "/human_handoff"):
        assert normalize(absent) not in texts, absent
    assert not any(text.startswith("external") for text in texts)
    # personal data is masked, in the whole page
    page = reviewer.get("/inbox").text
    assert "[NIK]" in page and "3174 0517" not in page and "budi.santoso@example" not in page


def test_a_prediction_that_is_no_label_cannot_be_confirmed(reviewer: TestClient) -> None:
    cat = group_id(reviewer, CAT)
    assert re.search(rf'id="confirm-{cat}" disabled', reviewer.get("/inbox").text)
    response = decide(reviewer, "confirm", [cat])
    assert response.status_code == 303
    assert "skipped=1" in response.headers["location"] and "done=0" in response.headers["location"]
    assert normalize(CAT) in [normalize(row["text"]) for row in rows(reviewer)]


def test_decide_then_export_into_the_training_data(
    make_client: AppFactory, settings: ReviewSettings, reviewer: TestClient
) -> None:
    # the select offers every label, FAQ topics with their names
    page = reviewer.get("/inbox").text
    assert '<option value="faq/kucing"' not in page
    assert re.search(
        r'<option value="faq/biaya"[^>]*>FAQ: biaya \(Info umum vaksin\) \[faq/biaya\]</option>', page
    )

    # correct the cat to a FAQ topic, confirm the cost question, discard two at once
    cat, cost = group_id(reviewer, CAT), group_id(reviewer, COST)
    travel, mask = group_id(reviewer, TRAVEL), group_id(reviewer, MASK)
    corrected = decide(reviewer, "correct", [cat], "faq/mitos")
    assert corrected.status_code == 303
    assert decide(reviewer, "confirm", [cost]).status_code == 303
    bulk = decide(reviewer, "discard", [travel, mask], page="1")
    assert bulk.status_code == 303
    assert "done=2" in bulk.headers["location"]
    after = reviewer.get(bulk.headers["location"])
    assert "2 messages discarded." in page_text(after.text)
    left = [normalize(row["text"]) for row in rows(reviewer)]
    for decided in (CAT, COST, TRAVEL, MASK):
        assert normalize(decided) not in left

    approved = page_text(reviewer.get("/inbox/approved").text)
    assert "Approved, waiting for the export (2)" in approved
    assert CAT in approved and "faq/mitos" in approved and TRAVEL not in approved
    assert "Export approved to training data" not in reviewer.get("/inbox/approved").text  # not for reviewers
    assert export(reviewer).status_code == 403
    assert reviewed_examples(settings.data_dir) == {}

    admin = make_client()
    assert sign_in(admin, *ADMIN).status_code == 303
    first = export(admin)
    assert first.status_code == 200
    result = page_text(first.text)
    assert "Export done: 2 added to data/nlu/reviewed.yml" in result
    assert "0 already training examples" in result and "run make train" in result
    examples = reviewed_examples(settings.data_dir)
    assert examples == {"faq/biaya": [COST], "faq/mitos": [CAT]}
    assert "Approved, waiting for the export (0)" in result and "Exported (2)" in result

    second = page_text(export(admin).text)
    assert "Export done: 0 added" in second
    assert reviewed_examples(settings.data_dir) == examples
    # now training data: gone from the inbox for good
    assert normalize(CAT) not in [normalize(row["text"]) for row in rows(admin)]


def test_export_skips_personal_data_and_duplicates(admin: TestClient, settings: ReviewSettings) -> None:
    nik = next(row["id"] for row in rows(admin) if "[NIK]" in row["text"])
    assert decide(admin, "correct", [nik], "check_schedule").status_code == 303
    result = page_text(export(admin).text)
    assert "0 added" in result and "1 with personal data skipped" in result
    assert reviewed_examples(settings.data_dir) == {}
    assert "3174" not in (settings.data_dir / "nlu").joinpath("core.yml").read_text(encoding="utf-8")


def test_correcting_needs_a_valid_label(reviewer: TestClient) -> None:
    cat = group_id(reviewer, CAT)
    assert decide(reviewer, "correct", [cat], "faq/kucing").status_code == 422
    assert decide(reviewer, "correct", [cat], "nlu_fallback").status_code == 422
    assert decide(reviewer, "shout", [cat]).status_code == 422
    nothing = decide(reviewer, "discard", [])
    assert nothing.status_code == 303
    assert "Nothing was selected." in page_text(reviewer.get(nothing.headers["location"]).text)
    assert normalize(CAT) in [normalize(row["text"]) for row in rows(reviewer)]


def test_pages_of_fifty_or_less(make_client: AppFactory) -> None:
    client = make_client(page_size=2)
    sign_in(client, *REVIEWER)
    first, second = rows(client), rows(client, "/inbox?page=2")
    assert len(first) == 2 and len(second) == 2
    assert not {row["id"] for row in first} & {row["id"] for row in second}
    assert 'id="page-next"' in client.get("/inbox").text


@pytest.fixture
def anonymous(make_client: AppFactory) -> Iterator[TestClient]:
    yield make_client()


def test_access(anonymous: TestClient, reviewer: TestClient, admin: TestClient) -> None:
    for path in ("/inbox", "/inbox/approved", "/unanswered"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        assert anonymous.get(path, headers={"Accept": "application/json"}).status_code == 401
    for path in ("/inbox/decide", "/inbox/export"):
        assert anonymous.post(path, follow_redirects=False).status_code == 303
        assert admin.post(path, data={"action": "discard"}, follow_redirects=False).status_code == 403
        wrong = admin.post(path, data={"csrf_token": "x" * 43, "action": "discard"}, follow_redirects=False)
        assert wrong.status_code == 403
    assert export(reviewer).status_code == 403
    assert 'id="export-button"' in admin.get("/inbox/approved").text
    nav = reviewer.get("/inbox").text
    assert 'href="/inbox"' in nav and 'href="/unanswered"' in nav
