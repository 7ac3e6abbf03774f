"""The Content pages and the four-eyes workflow, over HTTP on a real SQLite review database.

Every test works on its own copy of a content folder (content_files.py); the repository's domain
files are only read (test_the_repository_answers_are_listed).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from rasa_project.content import DEFAULT_CONTENT_DIR
from services.review.auth import create_user
from services.review.content_models import ContentRevision
from services.review.database import make_engine, make_session_factory
from services.review.migrate import upgrade_to_head
from services.review.models import Role
from services.review.settings import ReviewSettings
from tests.services.review.conftest import AppFactory
from tests.services.review.content_files import write_content
from tests.services.review.support import REVIEWER, FakeClock, page_text, sign_in

ANI = ("ani", "approver-password-ani")
BUDI = ("budi", "approver-password-budi")
NEW_TEXT = "*Gratis* untuk kelompok prioritas.\nTanya: {kontak_halo_kemenkes}\n\nSumber: Kemenkes (2024)."
OWN_EDIT = "Anda tidak dapat menyetujui atau menolak perubahan Anda sendiri."


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_content(tmp_path / "content")


@pytest.fixture
def approvers(settings: ReviewSettings, clock: FakeClock, users: None) -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session, session.begin():
            for name, password in (ANI, BUDI):
                create_user(session, name, password, Role.APPROVER, clock())
    finally:
        engine.dispose()


def as_user(make_client: AppFactory, folder: Path, user: tuple[str, str]) -> TestClient:
    client = make_client(content_dir=folder)
    assert sign_in(client, *user).status_code == 303
    return client


@pytest.fixture
def ani(make_client: AppFactory, folder: Path, approvers: None) -> TestClient:
    return as_user(make_client, folder, ANI)


@pytest.fixture
def budi(make_client: AppFactory, folder: Path, approvers: None) -> TestClient:
    return as_user(make_client, folder, BUDI)


@pytest.fixture
def rita(make_client: AppFactory, folder: Path, approvers: None) -> TestClient:
    return as_user(make_client, folder, REVIEWER)


def form_values(html: str) -> dict[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    digest = re.search(r'name="base_digest" value="([^"]+)"', html)
    assert token and digest, html
    return {"csrf_token": token.group(1), "base_digest": digest.group(1)}


def submit(client: TestClient, topic: str = "biaya", text: str = NEW_TEXT, **fields: str) -> Any:
    data = {
        **form_values(client.get(f"/content/{topic}").text),
        "text": text,
        "valid_as_of": "2024-01-01",
        "next_review": "2026-12-01",
        "note": "Fakta 2024",
        **fields,
    }
    return client.post(f"/content/{topic}", data=data, follow_redirects=False)


def pending_id(client: TestClient, topic: str = "biaya") -> int:
    found = re.search(r'id="pending-(\d+)"', client.get(f"/content/{topic}").text)
    assert found
    return int(found.group(1))


def decide(client: TestClient, revision: int, decision: str = "approve") -> Any:
    token = form_values(client.get("/content/biaya").text)["csrf_token"]
    return client.post(
        f"/content/revisions/{revision}/{decision}", data={"csrf_token": token}, follow_redirects=False
    )


def file_answer(folder: Path, topic: str = "biaya") -> dict[str, object]:
    data = yaml.safe_load((folder / "faq_answers_test.yml").read_text(encoding="utf-8"))
    answer: dict[str, object] = data["responses"][f"utter_faq/{topic}"][0]
    return answer


def test_the_list_shows_length_status_dates_sources_and_flags(ani: TestClient) -> None:
    page = ani.get("/content")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "3 jawaban" in text
    assert "1 lewat tanggal tinjau" in text and "1 perlu ditinjau dalam 30 hari" in text
    row = page_text(re.search(r'<tr data-topic="biaya">.*?</tr>', page.text, re.DOTALL).group(0))  # type: ignore[union-attr]
    rendered = (
        "*Vaksin COVID-19 berbayar* sejak 2024, kecuali untuk kelompok prioritas.\n\n"
        "Tanya: Halo Kemenkes 1500-567\n\nSumber: Kemenkes (2023)."
    )
    assert f" {len(rendered)} " in row
    assert "disetujui" in row and "2024-01-01" in row and "2026-01-20 · segera" in row
    assert "[primary] Vaksinasi 2024 (2023-12-31)" in row and "tim-konten" in row
    halal = page_text(re.search(r'<tr data-topic="halal">.*?</tr>', page.text, re.DOTALL).group(0))  # type: ignore[union-attr]
    assert "2025-12-31 · lewat" in halal
    assert 'href="/content"' in page.text  # in the navigation


def test_the_editor_shows_what_the_phone_shows(ani: TestClient) -> None:
    page = ani.get("/content/biaya")
    assert page.status_code == 200
    assert "<strong>Vaksin COVID-19 berbayar</strong> sejak 2024" in page.text
    assert "Tanya: Halo Kemenkes 1500-567" in page.text
    assert '<div class="wa-button">Menu lainnya</div>' in page.text  # the way on under every answer
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert ani.get("/content/preview.js").headers["content-type"].startswith("text/javascript")


def test_preview_fragment_and_full_page(ani: TestClient) -> None:
    values = form_values(ani.get("/content/biaya").text)
    long_text = "_Panjang_ " + "x" * 700 + " {kontak_lama}"
    fragment = ani.post("/content/biaya/preview", data={**values, "text": long_text, "fragment": "1"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div class="wa-phone" id="preview">')
    assert "<em>Panjang</em>" in fragment.text
    assert "lebih dari batas 700" in fragment.text and "{kontak_lama}" in fragment.text
    full = ani.post("/content/biaya/preview", data={**values, "text": "<b>hai</b> *tebal*"})
    assert "&lt;b&gt;hai&lt;/b&gt; <strong>tebal</strong>" in full.text
    assert "<title>biaya" in full.text


def test_edit_then_another_approver_publishes(
    ani: TestClient, budi: TestClient, folder: Path, settings: ReviewSettings
) -> None:
    assert submit(ani).headers["location"] == "/content/biaya?dikirim=1"
    assert file_answer(folder)["text"] != NEW_TEXT  # nothing reaches people yet
    listed = page_text(ani.get("/content").text)
    assert "1 menunggu persetujuan" in listed

    approved = decide(budi, pending_id(budi))

    assert approved.status_code == 303
    answer = file_answer(folder)
    assert answer["text"] == NEW_TEXT
    metadata = answer["metadata"]
    assert isinstance(metadata, dict)
    assert (metadata["status"], metadata["approved_by"], metadata["approved_at"]) == (
        "approved",
        "budi",
        "2026-01-03",
    )
    assert metadata["next_review"] == "2026-12-01"
    assert metadata["changelog"][-1] == {
        "at": "2026-01-03",
        "by": "ani",
        "change": "Fakta 2024 (disetujui budi)",
    }
    page = budi.get("/content/biaya?disetujui=1")
    assert "asisten memakainya mulai pesan berikutnya" in page.text
    assert "<strong>Gratis</strong> untuk kelompok prioritas." in page.text
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        rows = [
            (r.status, r.created_by, r.decided_by, r.text) for r in session.scalars(select(ContentRevision))
        ]
    engine.dispose()
    assert rows == [("approved", "ani", "budi", NEW_TEXT)]


def test_nobody_approves_their_own_edit(ani: TestClient, folder: Path) -> None:
    submit(ani)
    revision = pending_id(ani)
    page = ani.get("/content/biaya").text
    assert "Setujui dan terbitkan" not in page and "Ini perubahan Anda" in page
    for decision in ("approve", "reject"):
        refused = decide(ani, revision, decision)
        assert refused.status_code == 403
        assert OWN_EDIT in refused.text
    assert file_answer(folder)["text"] != NEW_TEXT


def test_only_approvers_decide(rita: TestClient, budi: TestClient, folder: Path) -> None:
    assert submit(rita).status_code == 303  # reviewers may propose edits
    refused = decide(rita, pending_id(rita))
    assert refused.status_code == 403
    assert "Hanya pengguna dengan peran approver" in refused.text
    assert decide(budi, pending_id(budi), "reject").status_code == 303
    assert file_answer(folder)["text"] != NEW_TEXT
    assert "ditolak" in page_text(budi.get("/content/biaya").text)
    again = decide(budi, 1)
    assert again.status_code == 409


def test_a_newer_edit_supersedes_and_a_stale_one_is_refused(
    ani: TestClient, budi: TestClient, folder: Path
) -> None:
    submit(ani)
    first = pending_id(ani)
    submit(ani, text=NEW_TEXT + " Rev 2.")
    assert pending_id(ani) != first
    assert decide(budi, first).status_code == 409
    # the answer changes on disk (another approval, a git pull): the pending edit is stale
    (folder / "faq_answers_test.yml").write_text(
        (folder / "faq_answers_test.yml").read_text(encoding="utf-8").replace("berbayar*", "berbayar!*"),
        encoding="utf-8",
    )
    stale = decide(budi, pending_id(budi))
    assert stale.status_code == 409
    assert "sudah berubah sejak perubahan dibuat" in stale.text
    assert "Rev 2." not in str(file_answer(folder)["text"])


def test_bad_edits_are_refused_in_indonesian(ani: TestClient) -> None:
    refused = submit(ani, text="x" * 720 + " {kontak_lama}", next_review="2030-01-01", note="")
    assert refused.status_code == 400
    text = page_text(refused.text)
    assert "Variabel tidak dikenal" in text and "batasnya 700" in text
    assert "paling lama 12 bulan lagi" in text and "Tuliskan apa yang diubah" in text
    unchanged = submit(ani, text=file_answer_text(ani))
    assert "Teks belum diubah" in unchanged.text
    assert ani.get("/content/tidak_ada").status_code == 404
    assert ani.get("/content/..%2Fsecrets").status_code == 404


def file_answer_text(client: TestClient) -> str:
    found = re.search(
        r'<textarea id="content-text"[^>]*>(.*?)</textarea>', client.get("/content/biaya").text, re.DOTALL
    )
    assert found
    return found.group(1).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def test_forms_need_the_csrf_token(ani: TestClient, budi: TestClient) -> None:
    submit(ani)
    revision = pending_id(budi)
    for path in ("/content/biaya", "/content/biaya/preview", f"/content/revisions/{revision}/approve"):
        assert budi.post(path, data={"text": "x", "csrf_token": "forged"}).status_code == 403


def test_unreadable_content_is_reported(make_client: AppFactory, folder: Path, approvers: None) -> None:
    (folder / "faq_answers_test.yml").write_text("responses: [broken\n", encoding="utf-8")
    client = as_user(make_client, folder, ANI)
    page = client.get("/content")
    assert page.status_code == 503
    assert "File jawaban tidak dapat dibaca: faq_answers_test.yml is not valid YAML" in page.text


def test_the_repository_answers_are_listed(make_client: AppFactory, approvers: None) -> None:
    client = as_user(make_client, DEFAULT_CONTENT_DIR, ANI)
    page = client.get("/content")
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-topic="', page.text)) >= 39
