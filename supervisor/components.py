"""What the assistant is made of: each server's command and the URL that says it is up.

The commands are those ``make run`` always ran; the environment (ports, databases, secrets) is the
one supervisor/environment.py prepared, passed on to every process unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from actions.settings import ActionSettings
from supervisor.settings import ROOT, SupervisorSettings

REGISTRY = "registry"
REVIEW_APP = "review app"
ACTION_SERVER = "action server"
RASA_SERVER = "rasa server"
OUTREACH_WORKER = "outreach worker"


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    command: tuple[str, ...]
    # None: a process without an HTTP server (the outreach worker); running counts as up.
    health_url: str | None


def assistant_components(settings: SupervisorSettings) -> list[ComponentSpec]:
    """In start order: the registry and the review app first, Rasa (the slowest) last.

    With a WhatsApp number configured, the outreach worker too: it sends the template messages of
    campaigns started in the review app (services/registry/outreach; the registry database is its
    queue in this embedded set-up). Without one there is nothing it could send.
    """
    actions_python = str(ROOT / ".venvs" / "actions" / "bin" / "python")
    rasa = str(ROOT / ".venvs" / "rasa" / "bin" / "rasa")
    project = ROOT / "rasa_project"
    return [
        ComponentSpec(
            REGISTRY,
            (actions_python, "-m", "services.registry", "serve", "--port", str(settings.registry_port),
             "--seed-demo"),
            f"http://127.0.0.1:{settings.registry_port}/health",
        ),
        ComponentSpec(
            REVIEW_APP,
            (actions_python, "-m", "services.review", "serve", "--port", str(settings.review_port),
             "--log-level", "warning"),
            f"http://127.0.0.1:{settings.review_port}/healthz",
        ),
        ComponentSpec(
            ACTION_SERVER,
            (actions_python, "-m", "actions.server"),
            f"http://127.0.0.1:{ActionSettings().action_port}/health",
        ),
        # The HTTP API (token-protected) lets the training gate swap in a new model and the review
        # app hand a conversation back from an officer (trigger_intent).
        ComponentSpec(
            RASA_SERVER,
            (rasa, "run", "--model", settings.model, "--port", str(settings.rasa_port),
             "--interface", settings.rasa_interface,
             "--enable-api", "--auth-token", settings.rasa_api_token.get_secret_value(),
             "--endpoints", str(project / "endpoints.yml"),
             "--credentials", str(project / "credentials.yml")),
            f"http://127.0.0.1:{settings.rasa_port}/",
        ),
        *([ComponentSpec(OUTREACH_WORKER, (actions_python, "-m", "services.registry.outreach", "worker"),
                         None)] if settings.sends_whatsapp else []),
    ]  # fmt: skip
