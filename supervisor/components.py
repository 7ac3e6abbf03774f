"""What the assistant is made of: each server's command and the URL that says it is up.

The commands are those ``make run`` always ran; the environment (ports, databases, secrets) is the
one supervisor/environment.py prepared, passed on to every process unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from supervisor.load_balancer import NGINX_CONFIG, action_ports, nginx_command, rasa_ports
from supervisor.settings import ROOT, SupervisorSettings

REGISTRY = "registry"
REVIEW_APP = "review app"
ACTION_SERVER = "action server"
RASA_SERVER = "rasa server"
OUTREACH_WORKER = "outreach worker"
LOAD_BALANCER = "load balancer"


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    command: tuple[str, ...]
    # None: a process without an HTTP server (the outreach worker); running counts as up.
    health_url: str | None
    # Settings of this process only (an instance's port), over the environment every process shares.
    environment: Mapping[str, str] = field(default_factory=dict)


def instance_name(server: str, number: int) -> str:
    """ "rasa server" for the first (or only) process, "rasa server 2" for the second …"""
    return server if number == 1 else f"{server} {number}"


def assistant_components(settings: SupervisorSettings) -> list[ComponentSpec]:
    """In start order: the registry and the review app first, Rasa (the slowest) last.

    With RASA_INSTANCES or ACTION_INSTANCES above 1, each server runs that many processes on ports of
    their own (``load_balancer.instance_ports``) and nginx listens on the public ports in front of them:
    clients, Rasa (ACTION_ENDPOINT_URL) and the review app see one address, as with one process.

    With a WhatsApp number configured, the outreach worker too: it sends the template messages of
    campaigns started in the review app (services/registry/outreach; the registry database is its
    queue in this embedded set-up). Without one there is nothing it could send.
    """
    actions_python = str(ROOT / ".venvs" / "actions" / "bin" / "python")
    balanced = settings.load_balanced
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
        *(
            ComponentSpec(instance_name(ACTION_SERVER, number), (actions_python, "-m", "actions.server"),
                          f"http://127.0.0.1:{port}/health", {"ACTION_PORT": str(port)})
            for number, port in enumerate(action_ports(settings), start=1)
        ),
        # The HTTP API (token-protected) lets the training gate swap in a new model (in each process:
        # RASA_URL lists them) and the review app hand a conversation back from an officer. The token is
        # one argument ("--auth-token=…"): a generated one may start with "-", an option to argparse.
        *(
            ComponentSpec(
                instance_name(RASA_SERVER, number),
                (rasa, "run", "--model", settings.model, "--port", str(port),
                 "--interface", "127.0.0.1" if balanced else settings.rasa_interface,
                 "--enable-api", f"--auth-token={settings.rasa_api_token.get_secret_value()}",
                 "--endpoints", str(project / "endpoints.yml"),
                 "--credentials", str(project / "credentials.yml")),
                f"http://127.0.0.1:{port}/",
            )
            for number, port in enumerate(rasa_ports(settings), start=1)
        ),
        # nginx on the public ports: up when it answers for Rasa (i.e. at least one Rasa answers).
        *([ComponentSpec(LOAD_BALANCER, nginx_command(settings.run_dir / NGINX_CONFIG),
                         f"http://127.0.0.1:{settings.rasa_port}/")] if balanced else []),
        *([ComponentSpec(OUTREACH_WORKER, (actions_python, "-m", "services.registry.outreach", "worker"),
                         None)] if settings.sends_whatsapp else []),
    ]  # fmt: skip
