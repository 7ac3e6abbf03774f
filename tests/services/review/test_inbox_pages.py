"""The NLU inbox pages: grouped messages, the model's guess in words, one-click confirm, personal-data
replies kept apart, decisions, and the export into a copy of data/."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator, Sequence
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
    behind: Sequence[tuple[str, float]] = (),
) -> dict[str, Any]:
    """A ``user`` event as Rasa 3.6 writes it (UserUttered.as_dict), with a response selector for FAQ.

    ``behind``: the intents a fallback gate overruled, kept in the ranking after ``nlu_fallback``.
    """
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": name, "confidence": value} for name, value in behind],
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


def bot_event(
    at: float, response: str, text: str = "...", buttons: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    data = {"buttons": buttons} if buttons else {}
    return {
        "event": "bot",
        "timestamp": at,
        "text": text,
        "data": data,
        "metadata": {"utter_action": response},
    }


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
        buttons = DID_YOU_MEAN_BUTTONS if response == "utter_did_you_mean" else None
        events += [
            {**user, "timestamp": at},
            bot_event(at + 0.3, response, buttons=buttons),
            listen(at + 0.4),
        ]
    return events


DID_YOU_MEAN_BUTTONS = [
    {"title": "Sertifikat", "payload": '/faq_choice{"topic":"sertifikat_bermasalah"}'},
    {"title": "Unduh sertifikat", "payload": '/faq_choice{"topic":"sertifikat"}'},
    {"title": "Menu lainnya", "payload": "/show_menu"},
]


COST = "vaksin booster di puskesmas bayar gak ya"
COST_AGAIN = "Vaksin booster di puskesmas BAYAR gak ya??"
CAT = "vaksin buat kucing peliharaan ada ga"
TRAVEL = "mau ke malaysia perlu vaksin apa"
MASK = "masih wajib pakai masker setelah divaksin?"
CHAT_ONLY = "pesan percobaan dari review chat"
SORE_ARM = "abis vaksin lengan pegel bgt normal ga"  # a fallback whose ranking holds a FAQ topic
CERTIFICATE = "data di sertifikat saya salah gimana"  # a fallback the second stage clarified
NIK_REPLY = "3174051708850001"  # typed into the schedule check: stored as [NOMOR]
BIRTH_REPLY = "17-08-1985"


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
                (
                    user_event(
                        0, SORE_ARM, "nlu_fallback", 0.3, "faq/efek_samping", 0.3, behind=[("faq", 0.28)]
                    ),
                    "utter_uncertain_answer",
                ),
                (
                    user_event(0, CERTIFICATE, "nlu_fallback", 0.22, behind=[("faq", 0.2)]),
                    "utter_did_you_mean",
                ),
            ],
        ),
    )
    for number in range(3):  # three people answer the schedule check's questions
        write_events(
            tracker_url,
            f"wa_5551c0ffee1{number}",
            conversation(
                T0 + 60 * number,
                [
                    (user_event(0, NIK_REPLY, "nlu_fallback", 0.1), "utter_ask_schedule_birth_date"),
                    (user_event(0, BIRTH_REPLY, "nlu_fallback", 0.1), "utter_schedule_result"),
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
_ROW = re.compile(r'<tr id="group-(?P<id>\d+)">(?P<row>.*?)</tr>', re.DOTALL)
_CELL = {
    "text": r'<td class="inbox-text">(.*?)</td>',
    "count": r'<td class="inbox-count"[^>]*>(\d+)</td>',
    "guess": r'<b class="guess-title">(.*?)</b>',
    "confidence": r'<span class="inbox-confidence">(.*?)</span>',
}


def visible(html_text: str) -> str:
    """The text a reader sees: ``page_text`` without the style sheet, inline tags joined, entities read."""
    without_style = re.sub(r"<style>.*?</style>", " ", html_text, flags=re.DOTALL)
    inline_joined = re.sub(r"</?(?:span|b|code)\b[^>]*>", "", without_style)
    return html.unescape(page_text(inline_joined))


def rows(client: TestClient, path: str = "/inbox") -> list[Row]:
    """Each inbox row as a reviewer reads it: the message, how often, the model's guess in words."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = []
    for match in _ROW.finditer(page.text):
        row = {"id": match.group("id")}
        for name, pattern in _CELL.items():
            cell = re.search(pattern, match.group("row"), re.DOTALL)
            row[name] = html.unescape(cell.group(1)).strip() if cell else ""
        row["buttons"] = " ".join(re.findall(r"<button[^>]*>(.*?)</button>", match.group("row")))
        found.append(row)
    return found


def row_of(client: TestClient, text: str, path: str = "/inbox") -> Row:
    for row in rows(client, path):
        if normalize(row["text"]) == normalize(text):
            return row
    raise AssertionError(f"{text!r} is not in the inbox")


def group_id(client: TestClient, text: str, path: str = "/inbox") -> str:
    return row_of(client, text, path)["id"]


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


def approved(client: TestClient) -> str:
    return visible(client.get("/inbox/approved").text)


def test_inbox_groups_unknown_messages_least_confident_first(reviewer: TestClient) -> None:
    found = rows(reviewer)
    texts = [normalize(row["text"]) for row in found]

    assert normalize(COST) in texts and texts.count(normalize(COST)) == 1
    cost = row_of(reviewer, COST)
    assert cost["count"] == "2"
    assert (cost["guess"], cost["confidence"]) == ("Biaya vaksin", "35 %")  # the lowest of its occurrences
    assert texts[0] == normalize(CAT)  # 0.12, a fallback with nothing behind it
    # not here: known training examples, the review chat, payloads, option numbers, external intents
    for absent in ("terima kasih", "booster kedua kapan ya", "halo", CHAT_ONLY, "2", "/human_handoff"):
        assert normalize(absent) not in texts, absent
    assert not any(text.startswith("external") for text in texts)


def test_the_guess_in_words_also_behind_a_fallback(reviewer: TestClient) -> None:
    text = visible(reviewer.get("/inbox").text)
    # the gate said "not sure"; the ranking it overruled holds the best real guess
    sore = row_of(reviewer, SORE_ARM)
    assert (sore["guess"], sore["confidence"]) == ("Efek samping ringan", "30 %")
    assert "Tebakan model: Efek samping ringan (30 %) · model tidak cukup yakin" in text
    assert "Benar" in sore["buttons"] and "nlu_fallback" not in text and "faq/" not in text
    # the second stage asked "did you mean": its first topic is the guess
    certificate = row_of(reviewer, CERTIFICATE)
    assert certificate["guess"] == "Masalah sertifikat" and certificate["confidence"] == ""
    assert 'Tebakan model: Masalah sertifikat · ditawarkan di "Apakah maksud Anda"' in text
    # nothing behind the fallback: no guess, so no "Benar"
    cat = row_of(reviewer, CAT)
    assert cat["guess"] == "" and "Benar" not in cat["buttons"]
    assert "Tidak ada tebakan model (12 %)" in text
    # every other topic is one choice away, by title
    page = reviewer.get("/inbox").text
    assert re.search(r'<option value="faq/biaya"[^>]*>Biaya vaksin — Info umum vaksin</option>', page)
    assert re.search(r'<option value="human_handoff"[^>]*>Minta petugas</option>', page)
    assert "Pilih topik lain" in text


def test_one_click_confirms_the_guess_of_a_fallback(reviewer: TestClient) -> None:
    sore, certificate = group_id(reviewer, SORE_ARM), group_id(reviewer, CERTIFICATE)
    response = decide(reviewer, "confirm", [sore])
    assert response.status_code == 303 and "done=1" in response.headers["location"]
    assert "1 pesan dikonfirmasi." in visible(reviewer.get(response.headers["location"]).text)
    assert decide(reviewer, "confirm", [certificate]).status_code == 303
    left = [normalize(row["text"]) for row in rows(reviewer)]
    assert normalize(SORE_ARM) not in left and normalize(CERTIFICATE) not in left
    waiting = approved(reviewer)
    assert "Disetujui, menunggu ekspor (2)" in waiting
    assert SORE_ARM in waiting and "Efek samping ringan — Efek samping (KIPI)" in waiting
    assert CERTIFICATE in waiting and "Masalah sertifikat — Sertifikat vaksin" in waiting


def test_a_message_without_a_guess_cannot_be_confirmed(reviewer: TestClient) -> None:
    cat = group_id(reviewer, CAT)
    assert f'id="confirm-{cat}"' not in reviewer.get("/inbox").text
    response = decide(reviewer, "confirm", [cat])
    assert response.status_code == 303
    assert "skipped=1" in response.headers["location"] and "done=0" in response.headers["location"]
    assert "1 dilewati" in visible(reviewer.get(response.headers["location"]).text)
    assert normalize(CAT) in [normalize(row["text"]) for row in rows(reviewer)]


def test_personal_data_replies_are_one_line_not_rows(reviewer: TestClient) -> None:
    page = reviewer.get("/inbox").text
    text = visible(page)
    # the snapshot's NIK and e-mail messages, and 3 NIK and 3 birth-date replies to the schedule check
    assert "8 balasan data pribadi (disembunyikan)" in text
    assert not any(
        "[NIK]" in row["text"] or "[TANGGAL]" in row["text"] or "[EMAIL]" in row["text"]
        for row in rows(reviewer)
    )
    assert "3174 0517" not in page and "budi.santoso@example" not in page and NIK_REPLY not in page

    hidden = rows(reviewer, "/inbox?data_pribadi=1")
    assert {row["count"] for row in hidden if row["text"] in ("[NIK]", "[TANGGAL]")} == {"3"}
    assert all("Benar" not in row["buttons"] for row in hidden)  # never training material
    shown = reviewer.get("/inbox?data_pribadi=1").text
    assert NIK_REPLY not in shown and "17-08-1985" not in shown and "3174 0517" not in shown
    # discarded in one go, and the reviewer stays in that view
    response = decide(reviewer, "discard", [row["id"] for row in hidden], data_pribadi="1")
    assert response.status_code == 303
    assert (
        "data_pribadi=1" in response.headers["location"]
        and f"done={len(hidden)}" in response.headers["location"]
    )
    assert rows(reviewer, "/inbox?data_pribadi=1") == []
    assert "balasan data pribadi" not in visible(reviewer.get("/inbox").text)


def test_decide_then_export_into_the_training_data(
    make_client: AppFactory, settings: ReviewSettings, reviewer: TestClient
) -> None:
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
    assert "2 pesan dibuang." in visible(after.text)
    left = [normalize(row["text"]) for row in rows(reviewer)]
    for decided in (CAT, COST, TRAVEL, MASK):
        assert normalize(decided) not in left

    waiting = approved(reviewer)
    assert "Disetujui, menunggu ekspor (2)" in waiting
    assert CAT in waiting and "Mitos & hoaks" in waiting and TRAVEL not in waiting
    assert (
        "Ekspor yang disetujui ke data latih" not in reviewer.get("/inbox/approved").text
    )  # not for reviewers
    assert export(reviewer).status_code == 403
    assert reviewed_examples(settings.data_dir) == {}

    admin = make_client()
    assert sign_in(admin, *ADMIN).status_code == 303
    first = export(admin)
    assert first.status_code == 200
    result = visible(first.text)
    assert "Ekspor selesai: 2 ditambahkan ke data/nlu/reviewed.yml" in result
    assert "0 sudah ada di data latih" in result and "make train" in result
    examples = reviewed_examples(settings.data_dir)
    assert examples == {"faq/biaya": [COST], "faq/mitos": [CAT]}
    assert "Disetujui, menunggu ekspor (0)" in result and "Diekspor (2)" in result

    second = visible(export(admin).text)
    assert "Ekspor selesai: 0 ditambahkan" in second
    assert reviewed_examples(settings.data_dir) == examples
    # now training data: gone from the inbox for good
    assert normalize(CAT) not in [normalize(row["text"]) for row in rows(admin)]


def test_export_skips_personal_data_and_duplicates(admin: TestClient, settings: ReviewSettings) -> None:
    nik = next(row["id"] for row in rows(admin, "/inbox?data_pribadi=1") if "[NIK]" in row["text"])
    assert decide(admin, "correct", [nik], "check_schedule").status_code == 303
    result = visible(export(admin).text)
    assert "0 ditambahkan" in result and "1 berisi data pribadi dilewati" in result
    assert reviewed_examples(settings.data_dir) == {}
    assert "3174" not in (settings.data_dir / "nlu").joinpath("core.yml").read_text(encoding="utf-8")


def test_correcting_needs_a_valid_label(reviewer: TestClient) -> None:
    cat = group_id(reviewer, CAT)
    refused = decide(reviewer, "correct", [cat], "faq/kucing")
    assert refused.status_code == 422 and "Pilih topik dari daftar" in refused.text
    assert decide(reviewer, "correct", [cat], "nlu_fallback").status_code == 422
    assert decide(reviewer, "shout", [cat]).status_code == 422
    nothing = decide(reviewer, "discard", [])
    assert nothing.status_code == 303
    assert "Tidak ada pesan yang dipilih." in visible(reviewer.get(nothing.headers["location"]).text)
    assert normalize(CAT) in [normalize(row["text"]) for row in rows(reviewer)]


def test_hostile_input_gets_words_not_a_crash(reviewer: TestClient) -> None:
    unknown = decide(reviewer, "confirm", ["999999999", "-1"])
    assert unknown.status_code == 303 and "done=0" in unknown.headers["location"]
    odd = decide(reviewer, "correct", [group_id(reviewer, CAT)], "faq/\u202ebiaya\ud800"[:-1] + "x")
    assert odd.status_code == 422
    assert decide(reviewer, "discard", ["banyak"]).status_code == 422
    too_many = decide(reviewer, "discard", [str(n) for n in range(1001)])
    assert too_many.status_code == 400  # more form fields than a form of this app ever has
    assert reviewer.get("/inbox?page=-3&data_pribadi=%00").status_code == 200


def test_english_on_request(reviewer: TestClient) -> None:
    reviewer.cookies.set("lang", "en")
    text = visible(reviewer.get("/inbox").text)
    assert "NLU inbox" in text and "Model's guess: Efek samping ringan (30 %)" in text
    assert "8 personal-data replies (hidden)" in text and "Choose another topic" in text
    assert "Right" in row_of(reviewer, SORE_ARM)["buttons"]


def test_pages_of_fifty_or_less(make_client: AppFactory) -> None:
    client = make_client(page_size=2)
    sign_in(client, *REVIEWER)
    first, second = rows(client), rows(client, "/inbox?page=2")
    assert len(first) == 2 and len(second) == 2
    assert not {row["id"] for row in first} & {row["id"] for row in second}
    assert 'id="page-next"' in client.get("/inbox").text
    assert 'href="/inbox?data_pribadi=1&amp;page=2"' in client.get("/inbox?data_pribadi=1").text


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
