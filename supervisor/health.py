"""The supervisor's health endpoint: ``GET /health`` on loopback, JSON for people and monitors.

``{"status": "ok" | "degraded", "components": {name: {state, pid, restarts, last_exit_code,
health: {url, status_code, body, error}}}}``. ``ok`` (HTTP 200) when every component is up and
none says it is degraded; ``degraded`` (HTTP 503) otherwise, so ``curl -f`` tells them apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from supervisor.process import Supervised


def stack_report(components: Sequence[Supervised]) -> dict[str, Any]:
    status = "ok" if all(component.healthy for component in components) else "degraded"
    return {"status": status, "components": {component.name: component.report() for component in components}}


def create_app(components: Sequence[Supervised]) -> FastAPI:
    app = FastAPI(title="TanyaVaksin supervisor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health() -> JSONResponse:
        report = stack_report(components)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app


class HealthServer(uvicorn.Server):
    """uvicorn inside the supervisor's event loop, leaving Ctrl-C and SIGTERM to the supervisor.

    uvicorn's own handlers would swallow the signal meant to stop the whole stack.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def health_server(components: Sequence[Supervised], host: str, port: int) -> HealthServer:
    config = uvicorn.Config(
        create_app(components), host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )
    return HealthServer(config)
