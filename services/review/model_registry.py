"""The models page: what the training gate recorded (``core.model_registry``, the one schema).

The gate writes the registry; this page only reads it, and shows a broken file as a problem
instead of failing. A version is the Rasa model and its semantic index: both must be on disk.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.model_registry import METRIC_NAMES, RegistryError, load
from services.review.web import CurrentUser, StateDep, render

router = APIRouter()


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, _user: CurrentUser, state: StateDep) -> HTMLResponse:
    models_dir = state.settings.models_dir
    problem = None
    registry = None
    try:
        registry = load(models_dir)
    except RegistryError as error:
        problem = f"registry.json cannot be read: {error}"
    models = sorted(registry.models, key=lambda m: m.trained_at, reverse=True) if registry else []
    return render(
        request,
        "models.html",
        {
            "registry": registry,
            "models": models,
            "problem": problem,
            "metrics": METRIC_NAMES,
            "missing": {model.id: model.missing(models_dir) for model in models},
        },
    )
