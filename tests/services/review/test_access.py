"""Nothing without signing in, no POST without the CSRF token, admin actions for admins only."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.services.review.conftest import AppFactory
from tests.services.review.support import REVIEWER, csrf_token, page_text, sign_in

PUBLIC = {"/login", "/healthz", "/", "/bahasa/{language}"}  # the language switch: a cookie, no data
CONVERSATION = "wa_8b2e44f01c9a"  # waits for an officer (snapshots/fallback_then_handoff.json)


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Routes of the app and of its included routers (FastAPI wraps those; none has a prefix here)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def routes(client: TestClient) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        if route.path not in PUBLIC:
            path = re.sub(r"\{[^}]+\}", CONVERSATION, route.path)
            found.extend((method, path) for method in sorted(route.methods or ()))
    return found


def test_the_route_list_is_complete(client: TestClient) -> None:
    """If a route is added, it is in the checks below automatically; this pins that they ran."""
    found = routes(client)
    for expected in [
        ("GET", "/conversations"),
        ("GET", "/api/conversations"),
        ("GET", f"/conversations/{CONVERSATION}"),
        ("POST", f"/conversations/{CONVERSATION}/release"),
        ("GET", "/stats"),
        ("GET", "/chat"),
        ("POST", "/chat"),
        ("GET", "/models"),
        ("POST", "/logout"),
    ]:
        assert expected in found


def test_every_route_needs_a_session(client: TestClient) -> None:
    for method, path in routes(client):
        response = client.request(method, path, follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json() == {"detail": "Belum masuk"}
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login"), (method, path)


def test_json_clients_get_401_anywhere(client: TestClient) -> None:
    response = client.get("/conversations", headers={"Accept": "application/json"}, follow_redirects=False)
    assert response.status_code == 401


def test_login_redirect_remembers_the_page(client: TestClient) -> None:
    response = client.get("/conversations?fallback=yes", follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Fconversations%3Ffallback%3Dyes"


def test_posts_need_the_csrf_token(admin: TestClient) -> None:
    posts = [(method, path) for method, path in routes(admin) if method == "POST"]
    assert len(posts) >= 7
    for _, path in posts:
        missing = admin.post(path, data={"tag": "x", "message": "halo"}, follow_redirects=False)
        assert missing.status_code == 403, path
        wrong = admin.post(path, data={"csrf_token": "x" * 43, "tag": "x"}, follow_redirects=False)
        assert wrong.status_code == 403, path
    assert "Formulir ini sudah kedaluwarsa atau tidak dikirim dari situs ini." in page_text(missing.text)
    assert "Tidak diizinkan" in page_text(missing.text)
    # and nothing happened: still signed in, no tag added
    page = admin.get(f"/conversations/{CONVERSATION}")
    assert page.status_code == 200
    assert 'name="tag" value="x"' not in page.text


def test_csrf_token_of_another_session_is_refused(admin: TestClient, reviewer: TestClient) -> None:
    other = csrf_token(admin)
    response = reviewer.post(
        f"/conversations/{CONVERSATION}/tags", data={"csrf_token": other, "tag": "x"}, follow_redirects=False
    )
    assert response.status_code == 403


def test_reviewers_cannot_release_a_handoff(make_client: AppFactory) -> None:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=[])

    rasa = httpx.MockTransport(record)
    client = make_client(rasa=rasa)
    sign_in(client, *REVIEWER)
    response = client.post(
        f"/conversations/{CONVERSATION}/release",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "Hanya administrator yang boleh melakukan ini." in page_text(response.text)
    assert calls == []
    page = client.get(f"/conversations/{CONVERSATION}")
    assert "Kembalikan ke bot" not in page.text  # no button for them either


@pytest.mark.parametrize("path", ["/conversations", "/stats", "/models", "/chat"])
def test_pages_are_not_cached_or_framed(reviewer: TestClient, path: str) -> None:
    response = reviewer.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
