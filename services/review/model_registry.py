"""The models page: what the training gate recorded in ``<models_dir>/registry.json``.

The gate (another part of the project) writes the file; this page only reads it, and shows a
broken or unexpected file as a problem instead of failing.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.review.web import CurrentUser, StateDep, render

router = APIRouter()

METRICS = ("faq_right", "faq_wrong", "faq_fallback", "all_right", "routing")


class ModelMetrics(BaseModel):
    model_config = ConfigDict(extra="allow")

    faq_right: float | None = None
    faq_wrong: float | None = None
    faq_fallback: float | None = None
    all_right: float | None = None
    routing: float | None = None


class RegisteredModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    file: str
    trained_at: datetime | str | None = None
    data_hash: str | None = None
    config_hash: str | None = None
    metrics: ModelMetrics = Field(default_factory=ModelMetrics)
    status: str = "kept"
    reason: str = ""


class ModelRegistry(BaseModel):
    model_config = ConfigDict(extra="allow")

    live: str | None = None
    history: list[str] = Field(default_factory=list)
    models: list[RegisteredModel] = Field(default_factory=list)

    def newest_first(self) -> list[RegisteredModel]:
        return sorted(self.models, key=lambda model: str(model.trained_at or ""), reverse=True)


class RegistryProblem(Exception):
    pass


def load_registry(path: Path) -> ModelRegistry | None:
    """The registry, or None when no model has been registered yet."""
    if not path.is_file():
        return None
    try:
        return ModelRegistry.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as error:
        raise RegistryProblem(f"{path.name} cannot be read: {type(error).__name__}") from error


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, _user: CurrentUser, state: StateDep) -> HTMLResponse:
    path = state.settings.registry_file
    problem = None
    registry = None
    try:
        registry = load_registry(path)
    except RegistryProblem as error:
        problem = str(error)
    models_dir = state.settings.models_dir
    return render(
        request,
        "models.html",
        {
            "registry": registry,
            "problem": problem,
            "metrics": METRICS,
            "present": {m.id: (models_dir / m.file).is_file() for m in registry.models} if registry else {},
        },
    )
