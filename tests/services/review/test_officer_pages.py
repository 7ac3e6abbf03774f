"""The officer console as officers use it: the queue, claiming, replying, closing, canned replies.

Rasa is faked at its HTTP API (tests/services/review/officer_support.py): every test checks what the
officer sees and what was sent to the assistant, or that nothing was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from services.review.database import make_engine, make_session_factory
from services.review.models import OfficerAudit
from services.review.settings import ReviewSettings
from tests.services.review.conftest import AppFactory
from tests.services.review.officer_support import (
    API_TOKEN,
    NIK,
    OFFICER,
    OLD_WHATSAPP,
    OTHER_OFFICER,
    REST,
    WHATSAPP,
    FakeRasa,
    create_users,
    write_waiting_conversations,
)
from tests.services.review.support import (
    ADMIN,
    REVIEWER,
    FakeClock,
    csrf_token,
    page_text,
    sign_in,
    write_snapshots,
)

REST_PAGE = f"/petugas/{REST}"
OpenAs = Callable[..., TestClient]


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    write_snapshots(url)
    write_waiting_conversations(url)
    return url


@pytest.fixture
def users(settings: ReviewSettings, clock: FakeClock) -> None:
    create_users(settings.database_url, clock())


@pytest.fixture
def rasa(tracker_url: str, clock: FakeClock) -> FakeRasa:
    return FakeRasa(tracker_url, clock)


@pytest.fixture
def open_as(make_client: AppFactory, rasa: FakeRasa) -> Iterator[OpenAs]:
    """A signed-in client for (username, password), on an app whose Rasa is the fake, with a token."""

    def make(account: tuple[str, str], **overrides: object) -> TestClient:
        settings = {"rasa_api_token": SecretStr(API_TOKEN), **overrides}
        client = make_client(rasa=rasa.transport, **settings)
        assert sign_in(client, *account).status_code == 303
        return client

    yield make


def audit(settings: ReviewSettings) -> list[tuple[str, str, str | None, str | None]]:
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(OfficerAudit).order_by(OfficerAudit.id)).all()
            return [(row.officer, row.action, row.conversation_id, row.text) for row in rows]
    finally:
        engine.dispose()


def post(client: TestClient, path: str, **data: str) -> Any:  # TestClient's response (httpx2)
    token = csrf_token(client, "/petugas")
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def claim(client: TestClient, conversation_id: str = REST) -> None:
    response = post(client, f"/petugas/{quote(conversation_id, safe='')}/ambil")
    assert response.status_code == 303, page_text(response.text)


def textarea(html: str) -> str:
    found = re.search(r'<textarea id="balasan"[^>]*>(.*?)</textarea>', html, re.DOTALL)
    return found.group(1) if found else ""


# --- who may ----------------------------------------------------------------------------------


def test_reviewers_get_an_indonesian_403_and_nothing_happens(open_as: OpenAs, rasa: FakeRasa) -> None:
    reviewer = open_as(REVIEWER)
    for path in ("/petugas", REST_PAGE):
        response = reviewer.get(path)
        assert response.status_code == 403
        assert "Hanya petugas atau administrator yang boleh membuka konsol petugas." in page_text(
            response.text
        )
    token = csrf_token(reviewer, "/conversations")
    for action in ("ambil", "kirim", "tutup", "antrean"):
        response = reviewer.post(f"{REST_PAGE}/{action}", data={"csrf_token": token, "balasan": "halo"})
        assert response.status_code == 403
    assert rasa.requests == []


def test_only_those_who_answer_recipients_see_the_console_in_the_menu(open_as: OpenAs) -> None:
    for user, shown in ((REVIEWER, False), (OFFICER, True), (ADMIN, True)):
        page = open_as(user).get("/conversations")
        assert page.status_code == 200
        assert ('href="/petugas"' in page.text) is shown, user[0]


def test_posts_without_the_csrf_token_are_refused(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga = open_as(OFFICER)
    for action in ("ambil", "kirim", "tutup", "antrean"):
        response = olga.post(f"{REST_PAGE}/{action}", data={"balasan": "halo"}, follow_redirects=False)
        assert response.status_code == 403
        assert "Formulir ini sudah kedaluwarsa" in page_text(response.text)
    assert rasa.requests == [] and audit(settings) == []


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_shows_the_longest_waiting_first_and_refreshes_itself(open_as: OpenAs) -> None:
    olga = open_as(OFFICER)
    page = olga.get("/petugas")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="15">' in page.text
    text = page_text(page.text)
    links = [f'href="/petugas/{conversation_id}"' for conversation_id in (OLD_WHATSAPP, WHATSAPP, REST)]
    order = [page.text.index(link) for link in links]
    assert order == sorted(order)
    assert "menunggu 30 menit" in text and "menunggu 2 jam 0 menit" in text
    assert "tolong cek" in text and NIK not in page.text  # the last message, masked
    assert text.count("Ambil") == 3
    assert '<a href="/petugas" class="current">Petugas</a>' in page.text or "Petugas" in page.text


def test_the_queue_says_who_holds_a_conversation(open_as: OpenAs) -> None:
    olga, oki = open_as(OFFICER), open_as(OTHER_OFFICER)
    claim(olga)
    assert "Anda menangani percakapan ini" in page_text(olga.get("/petugas").text)
    seen_by_oki = page_text(oki.get("/petugas").text)
    assert "Sedang ditangani oleh olga." in seen_by_oki
    assert seen_by_oki.count("Ambil") == 2


# --- claiming ---------------------------------------------------------------------------------


def test_the_second_officer_is_told_who_answers(open_as: OpenAs, settings: ReviewSettings) -> None:
    olga, oki = open_as(OFFICER), open_as(OTHER_OFFICER)
    claim(olga)
    response = post(oki, f"{REST_PAGE}/ambil")
    assert response.status_code == 409
    text = page_text(response.text)
    assert "Sedang ditangani oleh olga." in text
    assert 'id="balasan"' not in response.text
    assert [(who, action) for who, action, _, _ in audit(settings)] == [("olga", "claim")]


def test_an_unknown_conversation_is_a_404_in_indonesian(open_as: OpenAs) -> None:
    olga = open_as(OFFICER)
    response = olga.get("/petugas/tidak-ada")
    assert response.status_code == 404
    assert "Percakapan ini tidak ada." in page_text(response.text)
    assert post(olga, "/petugas/tidak-ada/ambil").status_code == 404
    for hostile in ("%00", "%ED%A0%80", "x" * 300, "%E2%80%AEabc"):
        assert olga.get(f"/petugas/{hostile}").status_code == 404, hostile
        assert post(olga, f"/petugas/{hostile}/kirim", balasan="halo").status_code == 404, hostile


# --- replying ---------------------------------------------------------------------------------


def test_the_holder_replies_and_sees_it_in_the_transcript(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    page = olga.get(REST_PAGE)
    assert "Anda menangani percakapan ini" in page_text(page.text)
    assert '<label for="balasan">Balasan</label>' in page.text

    response = post(olga, f"{REST_PAGE}/kirim", balasan="Halo Bu, vaksin booster gratis di puskesmas.")
    assert response.status_code == 303
    page = olga.get(response.headers["location"])
    text = page_text(page.text)
    assert "Balasan terkirim." in text
    officer_line = re.search(r'<div class="turn-officer">(.*?)</div>', page.text, re.DOTALL)
    assert officer_line and "Halo Bu, vaksin booster gratis di puskesmas." in officer_line.group(1)
    assert "EXTERNAL" not in text
    (request,) = rasa.requests
    assert request.url.path == f"/conversations/{REST}/trigger_intent"
    assert rasa.bodies() == [
        {
            "name": "officer_reply",
            "entities": {"officer_text": "Halo Bu, vaksin booster gratis di puskesmas."},
        }
    ]
    assert audit(settings)[-1] == ("olga", "reply", REST, "Halo Bu, vaksin booster gratis di puskesmas.")


def test_another_officer_cannot_reply_to_a_claimed_conversation(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga, oki = open_as(OFFICER), open_as(OTHER_OFFICER)
    claim(olga)
    for action in ("kirim", "tutup", "antrean"):
        response = post(oki, f"{REST_PAGE}/{action}", balasan="saya ambil alih")
        assert response.status_code in (409, 422), action
        assert "Sedang ditangani oleh olga." in page_text(response.text)
    assert rasa.requests == []
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


def test_nobody_replies_without_claiming_first(open_as: OpenAs, rasa: FakeRasa) -> None:
    olga = open_as(OFFICER)
    page = olga.get(REST_PAGE)
    assert 'id="balasan"' not in page.text and "Ambil" in page_text(page.text)
    response = post(olga, f"{REST_PAGE}/kirim", balasan="halo")
    assert response.status_code == 422
    assert "Ambil percakapan ini dulu" in page_text(response.text)
    assert rasa.requests == []


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "Balasan kosong. Tulis pesan untuk penerima."),
        (" \u202e\x00 ", "Balasan kosong. Tulis pesan untuk penerima."),
        ("x" * 1001, "Balasan terlalu panjang: 1001 karakter, paling banyak 1000."),
        ("y" * 200_000, "Balasan terlalu panjang: 200000 karakter, paling banyak 1000."),
    ],
)
def test_bad_replies_are_refused_and_nothing_is_sent(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings, reply: str, message: str
) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    response = post(olga, f"{REST_PAGE}/kirim", balasan=reply)
    assert response.status_code == 422
    assert message in page_text(response.text)
    assert rasa.requests == []
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


def test_odd_bytes_and_unicode_are_cleaned_never_a_500(open_as: OpenAs, rasa: FakeRasa) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    token = csrf_token(olga, "/petugas")
    # A lone surrogate as UTF-8 (invalid) and a right-to-left override, sent as raw form bytes.
    body = f"csrf_token={token}&balasan=halo%ED%A0%80+%E2%80%AEbalik%00".encode()
    response = olga.post(
        f"{REST_PAGE}/kirim",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    sent = rasa.bodies()[0]["entities"]["officer_text"]
    assert "\u202e" not in sent and "\x00" not in sent and sent.startswith("halo") and sent.endswith("balik")
    sent.encode("utf-8")


def test_the_whatsapp_window_closes_the_reply_box(open_as: OpenAs, rasa: FakeRasa, clock: FakeClock) -> None:
    olga = open_as(OFFICER)
    claim(olga, WHATSAPP)
    page = page_text(olga.get(f"/petugas/{WHATSAPP}").text)
    assert "Jendela balasan berakhir dalam 22 jam" in page
    clock.advance(hours=22, minutes=1)
    olga = open_as(OFFICER)  # the session has expired meanwhile
    html = olga.get(f"/petugas/{WHATSAPP}").text
    assert "Jendela balasan WhatsApp sudah berakhir" in page_text(html)
    assert re.search(r'<textarea id="balasan"[^>]*disabled', html)
    response = post(olga, f"/petugas/{WHATSAPP}/kirim", balasan="halo")
    assert response.status_code == 422
    assert "Jendela balasan WhatsApp sudah berakhir" in page_text(response.text)
    assert rasa.requests == []


def test_when_rasa_is_down_nothing_is_recorded_as_sent(
    make_client: AppFactory, settings: ReviewSettings
) -> None:
    olga = make_client(rasa_api_token=SecretStr(API_TOKEN))  # Rasa at an unused port
    sign_in(olga, *OFFICER)
    claim(olga)
    response = post(olga, f"{REST_PAGE}/kirim", balasan="Halo, ini petugas.")
    assert response.status_code == 502
    text = page_text(response.text)
    assert "Balasan tidak terkirim dan tidak dicatat sebagai terkirim." in text
    assert "Asisten (Rasa) tidak dapat dihubungi." in text
    assert textarea(response.text) == "Halo, ini petugas."
    assert "Balasan terkirim." not in text
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


def test_a_rasa_error_is_named_and_nothing_is_recorded(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    rasa.status = 500
    response = post(olga, f"{REST_PAGE}/kirim", balasan="halo")
    assert response.status_code == 502
    assert "Asisten (Rasa) menjawab dengan kesalahan HTTP 500." in page_text(response.text)
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


def test_without_an_api_token_replies_are_refused_not_sent_over_rest(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga = open_as(OFFICER, rasa_api_token=SecretStr(""))
    claim(olga)
    response = post(olga, f"{REST_PAGE}/kirim", balasan="halo")
    assert response.status_code == 502
    assert "RASA_API_TOKEN belum diatur" in page_text(response.text)
    assert rasa.requests == []
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


# --- closing and requeueing -------------------------------------------------------------------


def test_closing_hands_back_to_the_bot_and_leaves_the_queue(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    response = post(olga, f"{REST_PAGE}/tutup")
    assert response.status_code == 303
    assert response.headers["location"] == "/petugas?done=closed"
    assert rasa.bodies() == [{"name": "release_handoff"}]
    queue = page_text(olga.get("/petugas?done=closed").text)
    assert "Percakapan ditutup dan dikembalikan ke bot." in queue
    assert REST not in queue
    page = page_text(olga.get(REST_PAGE).text)
    assert "Percakapan ini tidak sedang menunggu petugas" in page
    assert "Anda kembali terhubung dengan asisten otomatis." in page
    assert [(who, action) for who, action, _, _ in audit(settings)] == [("olga", "claim"), ("olga", "close")]


def test_when_rasa_is_down_closing_keeps_the_claim(make_client: AppFactory, settings: ReviewSettings) -> None:
    olga = make_client(rasa_api_token=SecretStr(API_TOKEN))
    sign_in(olga, *OFFICER)
    claim(olga)
    response = post(olga, f"{REST_PAGE}/tutup")
    assert response.status_code == 502
    assert "Percakapan belum dikembalikan ke bot dan masih Anda tangani." in page_text(response.text)
    assert "Anda menangani percakapan ini" in page_text(olga.get(REST_PAGE).text)
    assert [action for _, action, _, _ in audit(settings)] == ["claim"]


def test_back_to_the_queue_sends_nothing_and_another_officer_can_take_it(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga, oki = open_as(OFFICER), open_as(OTHER_OFFICER)
    claim(olga)
    response = post(olga, f"{REST_PAGE}/antrean")
    assert response.headers["location"] == "/petugas?done=requeued"
    assert "Percakapan dikembalikan ke antrean." in page_text(olga.get("/petugas?done=requeued").text)
    claim(oki)
    assert rasa.requests == []
    assert [(who, action) for who, action, _, _ in audit(settings)] == [
        ("olga", "claim"),
        ("olga", "requeue"),
        ("oki", "claim"),
    ]


def test_an_admin_answers_like_an_officer_and_may_free_a_forgotten_claim(
    open_as: OpenAs, rasa: FakeRasa, settings: ReviewSettings
) -> None:
    olga, adam = open_as(OFFICER), open_as(ADMIN)
    claim(olga)
    page = page_text(adam.get(REST_PAGE).text)
    assert "Sedang ditangani oleh olga." in page and "Kembalikan ke antrean" in page
    assert post(adam, f"{REST_PAGE}/antrean").status_code == 303
    claim(adam)
    assert post(adam, f"{REST_PAGE}/kirim", balasan="Halo dari admin").status_code == 303
    assert rasa.bodies()[0]["entities"]["officer_text"] == "Halo dari admin"
    assert audit(settings)[1] == ("adam", "requeue", REST, "klaim milik olga")


# --- canned replies ---------------------------------------------------------------------------


def test_a_canned_reply_fills_the_reply_box(open_as: OpenAs) -> None:
    olga = open_as(OFFICER)
    claim(olga)
    page = olga.get(REST_PAGE)
    links = re.findall(r'href="(/petugas/[^"]+\?siap=\d+)">([^<]+)</a>', page.text)
    assert [title for _, title in links] == ["Informasi lebih lanjut", "Keadaan darurat", "Salam pembuka"]
    emergency = next(link for link, title in links if title == "Keadaan darurat")
    filled = textarea(olga.get(emergency).text)
    assert "119" in filled and "IGD" in filled
    assert textarea(olga.get(f"{REST_PAGE}?siap=999999999999").text) == ""
    assert textarea(olga.get(f"{REST_PAGE}?siap=abc").text) == ""


def test_only_admins_manage_canned_replies(open_as: OpenAs, settings: ReviewSettings) -> None:
    olga, adam = open_as(OFFICER), open_as(ADMIN)
    assert olga.get("/balasan-siap").status_code == 403
    token = csrf_token(olga, "/petugas")
    refused = olga.post("/balasan-siap", data={"csrf_token": token, "judul": "x", "teks": "y"})
    assert refused.status_code == 403
    assert "Hanya administrator yang boleh melakukan ini." in page_text(refused.text)

    token = csrf_token(adam, "/balasan-siap")
    added = adam.post(
        "/balasan-siap", data={"csrf_token": token, "judul": "Jam layanan", "teks": "Senin-Jumat."}
    )
    assert added.status_code == 200 and "Balasan siap pakai disimpan." in page_text(added.text)
    form = r'name="id" value="(\d+)">\s*<label>Judul <input type="text" name="judul" value="Jam layanan"'
    reply_id = re.findall(form, added.text)[0]
    empty = adam.post(
        "/balasan-siap/ubah", data={"csrf_token": token, "id": reply_id, "judul": "", "teks": "a"}
    )
    assert empty.status_code == 422
    assert "Judul dan teks balasan siap pakai wajib diisi." in page_text(empty.text)
    edited = adam.post(
        "/balasan-siap/ubah",
        data={"csrf_token": token, "id": reply_id, "judul": "Jam layanan", "teks": "Senin-Sabtu."},
    )
    assert "Senin-Sabtu." in edited.text
    gone = adam.post("/balasan-siap/hapus", data={"csrf_token": token, "id": "abc"})
    assert gone.status_code == 422 and "tidak ada" in page_text(gone.text)
    deleted = adam.post("/balasan-siap/hapus", data={"csrf_token": token, "id": reply_id})
    assert "Jam layanan" not in deleted.text
    assert [action for _, action, _, _ in audit(settings)] == ["canned_add", "canned_edit", "canned_delete"]


def test_the_console_speaks_english_on_request(open_as: OpenAs) -> None:
    olga = open_as(OFFICER)
    olga.cookies.set("lang", "en")
    text = page_text(olga.get("/petugas").text)
    assert "Officer queue" in text and "waiting 30 min" in text and "Take" in text
