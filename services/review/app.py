"""The review web app, built from explicit settings so that tests and the CLI share one path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import quote

import anyio.to_thread
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware

from services.review import (
    chat,
    content_pages,
    conversation_pages,
    inbox_pages,
    language_pages,
    model_registry,
    officer_pages,
    outreach_pages,
    signin,
    stats_pages,
    unanswered,
)
from services.review.database import make_engine, make_session_factory, make_tracker_engine
from services.review.indexer import Indexer
from services.review.migrate import upgrade_to_head
from services.review.proxy import TrustedProxyMiddleware
from services.review.registry_client import RegistryClient
from services.review.settings import ReviewSettings
from services.review.state import Clock, ReviewState, utc_now
from services.review.web import NotSignedIn, render, wants_json

NAV = [
    ("/conversations", "Percakapan"),
    ("/inbox", "Kotak masuk NLU"),
    ("/unanswered", "Belum terjawab"),
    ("/stats", "Statistik"),
    ("/chat", "Uji chat"),
    ("/models", "Model"),
    ("/content", "Konten"),
    ("/petugas", "Petugas"),
]
# Pages show conversations: nothing may be cached, framed, or load anything from elsewhere.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
NOT_SIGNED_IN = "Belum masuk"
_TITLES = {401: NOT_SIGNED_IN, 403: "Tidak diizinkan", 404: "Tidak ditemukan", 405: "Tidak diizinkan"}
_OTHER_ERROR = "Terjadi kesalahan"


def create_app(
    settings: ReviewSettings,
    *,
    clock: Clock = utc_now,
    rasa_transport: httpx.BaseTransport | None = None,
    registry_transport: httpx.BaseTransport | None = None,
) -> FastAPI:
    """A new app with its own engines. At start it migrates the schema and indexes the tracker store."""
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    tracker_engine = make_tracker_engine(settings.tracker_store_url)
    indexer = Indexer(
        tracker_engine,
        session_factory,
        batch_size=settings.sync_batch_size,
        min_interval=settings.sync_min_interval_seconds,
        clock=clock,
    )
    rasa = httpx.Client(
        base_url=settings.rasa_url, timeout=settings.rasa_timeout_seconds, transport=rasa_transport
    )
    state = ReviewState(settings, engine, session_factory, tracker_engine, indexer, rasa, clock)
    registry = RegistryClient.from_settings(settings, registry_transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(upgrade_to_head, engine)
        if settings.sync_on_start:
            await anyio.to_thread.run_sync(indexer.sync)
        try:
            yield
        finally:
            registry.close()
            rasa.close()
            tracker_engine.dispose()
            engine.dispose()

    app = FastAPI(
        title="TanyaVaksin review", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.review = state
    app.state.nav = [*NAV, *outreach_pages.NAV]
    app.state.nav_roles = dict(outreach_pages.NAV_ROLES)
    app.state.registry_client = registry
    for module in (
        signin,
        conversation_pages,
        stats_pages,
        chat,
        model_registry,
        inbox_pages,
        unanswered,
        content_pages,
        officer_pages,
        language_pages,
        outreach_pages,
    ):
        app.include_router(module.router)
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BaseHTTPMiddleware, dispatch=_security_headers)
    # Outermost, so every later layer sees the real client and scheme (services/review/proxy.py).
    app.add_middleware(
        TrustedProxyMiddleware, proxies=settings.trusted_proxies, header=settings.proxy_client_header
    )

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/conversations", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _not_signed_in(request: Request, _error: Exception) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": NOT_SIGNED_IN}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/conversations"
    return RedirectResponse(
        f"/login?next={quote(target, safe='')}" if target != "/" else "/login", status_code=303
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if wants_json(request) or error.status_code < 400:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
    title = _TITLES.get(error.status_code, _OTHER_ERROR)
    return render(
        request,
        "error.html",
        {"title": title, "message": error.detail, "status_code": error.status_code},
        status_code=error.status_code,
    )
