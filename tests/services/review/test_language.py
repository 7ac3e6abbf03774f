"""Indonesian first, English on request: the header's switch, its cookie, and no open redirect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.review.app import NAV
from services.review.i18n import catalog
from services.review.signin import FORM_EXPIRED, TOO_MANY_FAILURES, WRONG_PASSWORD
from tests.services.review.support import page_text

TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "review" / "templates"
# The pages of this area: every fixed text in them has its English.
PAGES = ("base", "login", "error", "chat", "conversations", "transcript", "transcript_lines")
_LITERAL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


def header(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.split("<header>", 1)[1].split("</header>", 1)[0]).split())


def test_indonesian_by_default(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="id">' in page.text
    text = page_text(page.text)
    assert "Masuk" in text and "Nama pengguna" in text and "Kata sandi" in text
    assert "English" in header(page.text)


def test_switch_to_english_and_back(client: TestClient) -> None:
    switched = client.get("/bahasa/en", params={"next": "/login?next=%2Fchat"}, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=%2Fchat"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = client.get("/login?next=%2Fchat")
    assert '<html lang="en">' in page.text
    text = page_text(page.text)
    assert "Sign in" in text and "Username" in text and "Password" in text
    assert "Nama pengguna" not in text
    # The link goes back to this very page, in the other language.
    assert 'href="/bahasa/id?next=/login%3Fnext%3D%252Fchat"' in page.text
    client.get("/bahasa/id", params={"next": "/login"})
    assert "Nama pengguna" in page_text(client.get("/login").text)


def test_signed_in_pages_in_english(reviewer: TestClient) -> None:
    reviewer.get("/bahasa/en", params={"next": "/conversations"})
    page = reviewer.get("/conversations")
    top = header(page.text)
    for label in ("Conversations", "NLU inbox", "Statistics", "Test chat", "Sign out", "(reviewer)"):
        assert label in top, label
    assert "Bahasa Indonesia" in top
    text = page_text(page.text)
    assert "Search what recipients typed" in text and "newest activity first" in text
    missing = reviewer.get("/conversations/nobody-here")
    assert missing.status_code == 404
    assert "Not found" in page_text(missing.text)
    assert "No such conversation in the tracker store." in page_text(missing.text)


def test_signed_in_pages_in_indonesian(reviewer: TestClient) -> None:
    top = header(reviewer.get("/conversations").text)
    for label in ("Percakapan", "Kotak masuk NLU", "Statistik", "Uji chat", "Keluar", "(peninjau)"):
        assert label in top, label


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\\\\evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/" + "a" * 5000,
        "",
    ],
)
def test_no_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/bahasa/en", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/conversations"


def test_unknown_language_and_forged_cookie_mean_indonesian(client: TestClient) -> None:
    response = client.get("/bahasa/fr", params={"next": "/login"}, follow_redirects=False)
    assert response.headers["set-cookie"].startswith("lang=id;")
    client.cookies.set("lang", "<script>")
    page = client.get("/login")
    assert '<html lang="id">' in page.text and "<script>" not in page.text


def test_every_text_of_these_pages_has_its_english() -> None:
    english = catalog("en")
    texts = {
        (double or single).replace('\\"', '"')
        for name in PAGES
        for double, single in _LITERAL.findall((TEMPLATES / f"{name}.html").read_text(encoding="utf-8"))
    }
    texts |= {label for _, label in NAV if label != "Petugas"}  # the officer console's own file has that one
    texts |= {FORM_EXPIRED, WRONG_PASSWORD, TOO_MANY_FAILURES}
    assert len(texts) > 80
    assert sorted(text for text in texts if text not in english) == []
