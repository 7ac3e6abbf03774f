"""The registry web app, built from explicit settings so that tests and the CLI share one path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from services.registry.api import router
from services.registry.auth import Unauthorised
from services.registry.database import make_engine, make_session_factory
from services.registry.errors import RedactedErrorMiddleware, unauthorised_handler, validation_error_handler
from services.registry.migrate import upgrade_to_head
from services.registry.outreach.routes import router as outreach_router
from services.registry.request_routes import include_request_routes
from services.registry.settings import RegistrySettings
from services.registry.state import Clock, RegistryState, utc_now
from services.registry.whatsapp import CodeSender, GraphApiCodeSender

DESCRIPTION = """\
Vaccination registry for TanyaVaksin. `POST /v1/lookup` returns a person's doses and next
appointment once their NIK and birth date match and, on WhatsApp, the chat comes from the number
on file; from another number it sends a one-time code there (202), which `POST /v1/lookup/code`
checks. Callers authenticate with the service token.
"""


def create_app(
    settings: RegistrySettings, *, clock: Clock = utc_now, code_sender: CodeSender | None = None
) -> FastAPI:
    """A new app with its own engine; the schema is migrated to head when it starts.

    Codes go out through the Graph API the settings name, unless ``code_sender`` is given.
    """
    engine = make_engine(settings.database_url)
    sender = code_sender if code_sender is not None else GraphApiCodeSender.from_settings(settings)
    state = RegistryState(settings, engine, make_session_factory(engine), clock, sender)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await anyio.to_thread.run_sync(upgrade_to_head, engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="TanyaVaksin registry", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.registry = state
    app.include_router(router)
    include_request_routes(app)
    app.include_router(outreach_router)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Unauthorised, unauthorised_handler)
    app.add_middleware(RedactedErrorMiddleware)
    return app
