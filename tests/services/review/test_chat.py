"""The reviewers' test chat against Rasa's REST channel (Rasa here is an httpx transport)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from services.review.settings import ReviewSettings
from tests.services.review.conftest import AppFactory
from tests.services.review.support import REVIEWER, csrf_token, page_text, sign_in


def fake_rasa() -> tuple[httpx.MockTransport, list[dict[str, str]]]:
    received: list[dict[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/webhooks/rest/webhook"
        body = json.loads(request.content)
        received.append(body)
        if body["message"] == "halo":
            return httpx.Response(
                200,
                json=[
                    {"recipient_id": body["sender"], "text": "Halo! Saya TanyaVaksin."},
                    {
                        "recipient_id": body["sender"],
                        "text": "Pilih topik:",
                        "buttons": [
                            {"title": "Dosis & booster", "payload": '/show_menu{"menu_category":"dosis"}'}
                        ],
                    },
                ],
            )
        return httpx.Response(
            200, json=[{"recipient_id": body["sender"], "text": f"Anda memilih {body['message']}"}]
        )

    return httpx.MockTransport(handle), received


def test_chat_round_trip(make_client: AppFactory) -> None:
    transport, received = fake_rasa()
    client = make_client(rasa=transport)
    sign_in(client, *REVIEWER)
    token = csrf_token(client)
    response = client.post("/chat", data={"csrf_token": token, "message": "halo"}, follow_redirects=False)
    assert response.status_code == 303
    sender = received[0]["sender"]
    assert sender.startswith("review-rita-") and len(sender) == len("review-rita-") + 8
    page = client.get("/chat")
    text = page_text(page.text)
    assert "halo" in text and "Halo! Saya TanyaVaksin." in text and "Dosis &amp; booster" in page.text
    assert 'value="/show_menu{&#34;menu_category&#34;:&#34;dosis&#34;}"' in page.text  # the button's payload
    # A button click sends its payload and shows its title.
    client.post(
        "/chat",
        data={
            "csrf_token": token,
            "message": '/show_menu{"menu_category":"dosis"}',
            "shown": "Dosis & booster",
        },
    )
    assert received[1] == {"sender": sender, "message": '/show_menu{"menu_category":"dosis"}'}
    # The reviewer's turn shows the button's title, as the recipient sees it, not its payload.
    assert user_turns(client.get("/chat").text)[-1] == "Dosis &amp; booster"
    # A new conversation gets a new sender id and an empty transcript.
    client.post("/chat/new", data={"csrf_token": token})
    client.post("/chat", data={"csrf_token": token, "message": "halo"})
    assert received[2]["sender"] != sender
    assert page_text(client.get("/chat").text).count("Halo! Saya TanyaVaksin.") == 1


def test_chat_when_rasa_is_down(reviewer: TestClient) -> None:
    response = reviewer.post("/chat", data={"csrf_token": csrf_token(reviewer), "message": "halo"})
    assert response.status_code == 502
    assert "cannot be reached" in response.text
    assert "Apakah asisten sedang berjalan (make run)?" in response.text
    assert 'value="halo"' in response.text  # what was typed is kept
    assert "Belum ada pesan." in response.text


def user_turns(html: str) -> list[str]:
    return [" ".join(turn.split()) for turn in re.findall(r'<div class="turn-user">(.*?)</div>', html, re.S)]


def test_chat_masks_what_is_shown(make_client: AppFactory) -> None:
    transport, _ = fake_rasa()  # it repeats what it was sent: the bot's words are shown as they are
    client = make_client(rasa=transport)
    sign_in(client, *REVIEWER)
    client.post("/chat", data={"csrf_token": csrf_token(client), "message": "NIK 3174051708859001"})
    assert user_turns(client.get("/chat").text) == ["NIK [NIK]"]


def test_chat_stores_what_the_reviewer_typed_masked(
    make_client: AppFactory, settings: ReviewSettings
) -> None:
    """Reviewers try the schedule check with NIKs and birth dates too; the review database keeps none."""
    received: list[str] = []

    def rasa(request: httpx.Request) -> httpx.Response:  # like the assistant: repeats no digits
        received.append(json.loads(request.content)["message"])
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "Terima kasih, sedang dicek."}])

    client = make_client(rasa=httpx.MockTransport(rasa))
    sign_in(client, *REVIEWER)
    typed = "nik 3174/0517/0885/9001 lahir 17agustus1985"
    client.post("/chat", data={"csrf_token": csrf_token(client), "message": typed})
    assert received[0] == typed  # the assistant gets what was typed
    client.post(
        "/chat",
        data={"csrf_token": csrf_token(client), "message": "3174\n0517\n0885\n9001", "shown": "NIK saya"},
    )
    assert "nik [NIK] lahir [TANGGAL]" in page_text(client.get("/chat").text)
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    stored = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
    # Whole pieces as typed: a 4-digit piece alone turns up in the random salts, hashes and tokens of
    # the same file about once in 30 runs.
    for secret in (b"3174/0517", b"0885/9001", b"3174\n0517", b"0885\n9001", b"17agustus", b"agustus1985"):
        assert secret not in stored


def test_chat_masks_what_the_reviewer_typed_not_what_the_bot_said(make_client: AppFactory) -> None:
    """A content reviewer checks the bot's dates and hotline; only what a person types is masked."""
    answer = "Sejak 1 Januari 2024 booster dibuka. Tanya Halo Kemenkes 1500-567 atau 0812-3456-7890."

    def rasa(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"recipient_id": "x", "text": answer}])

    client = make_client(rasa=httpx.MockTransport(rasa))
    sign_in(client, *REVIEWER)
    client.post("/chat", data={"csrf_token": csrf_token(client), "message": "kemarin tgl 12/03/1980 demam"})
    text = page_text(client.get("/chat").text)
    assert "kemarin tgl [TANGGAL] demam" in text
    assert "12/03/1980" not in text
    assert answer in text  # the bot's words exactly as sent


def test_chat_page_in_english(reviewer: TestClient) -> None:
    reviewer.cookies.set("lang", "en")
    text = page_text(reviewer.get("/chat").text)
    assert "Test chat" in text and "No messages yet." in text and "Send" in text
