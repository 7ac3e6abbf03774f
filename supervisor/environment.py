"""The one environment every server of ``make run`` inherits: the supervisor's own.

Filled once at start, an earlier source winning over a later one: the process environment, then
``.env`` in the repository (optional, git-ignored; ``.env.example`` lists every variable), then the
secrets generated once into ``$RUN_DIR/secrets.env``, then what follows from the supervisor's
settings (each server's address, the run folder's databases). The defaults themselves stay in the
settings classes; only the addresses that tie the servers together are derived here.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy.engine import URL

from actions.settings import ActionSettings
from core.threads import THREADS
from supervisor.load_balancer import rasa_ports
from supervisor.settings import ROOT, SupervisorSettings

ENV_FILE = ROOT / ".env"
RASA_FILES = (ROOT / "rasa_project" / "endpoints.yml", ROOT / "rasa_project" / "credentials.yml")
SECRETS_FILE = "secrets.env"
# How `make train` reaches the running Rasa server to swap its model (the Makefile reads it).
RASA_API_FILE = "rasa_api.env"
SECRETS = ("REGISTRY_SERVICE_TOKEN", "REGISTRY_AUDIT_HASH_KEY", "WHATSAPP_SENDER_HASH_KEY", "RASA_API_TOKEN",
           "REVIEW_ADMIN_PASSWORD", "ACTION_SERVER_TOKEN", "REGISTRY_STAFF_TOKEN")  # fmt: skip


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments), an empty value meaning "the default"; {} without the file."""
    return {name: value for name, value in dotenv_values(path).items() if value}


def rasa_variables() -> set[str]:
    """The ``${VAR}``s of endpoints.yml and credentials.yml: Rasa refuses to start while one is unset."""
    texts = (path.read_text(encoding="utf-8") for path in RASA_FILES)
    return {name for text in texts for name in re.findall(r"\$\{(\w+)\}", text)}


def write_private(path: Path, values: Mapping[str, str], append: bool = False) -> None:
    """``NAME=value`` lines into a file only this user can read, whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    with open(os.open(path, flags, 0o600), "w", encoding="utf-8") as file:
        file.writelines(f"{name}={value}\n" for name, value in values.items())


def run_secrets(path: Path) -> dict[str, str]:
    """The run folder's secrets, generated once (and added when a run folder from before lacks one)."""
    stored = read_env_file(path)
    missing = {name: secrets.token_urlsafe(32) for name in SECRETS if name not in stored}
    if missing:
        write_private(path, missing, append=True)
    return {**stored, **missing}


def prepare_environment() -> SupervisorSettings:
    """Fills ``os.environ`` for the stack (children inherit it) and returns the settings read from it."""
    for name, value in read_env_file(ENV_FILE).items():
        os.environ.setdefault(name, value)
    settings = SupervisorSettings()
    run_dir = settings.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    for path in run_dir.iterdir():  # written before the umask: a database, a log or secrets
        if path.is_file() and (".db" in path.name or path.suffix in (".log", ".env")):
            path.chmod(0o600)
    for name, value in run_secrets(run_dir / SECRETS_FILE).items():
        if not os.environ.get(name):
            os.environ[name] = value
    rasa_url = f"http://127.0.0.1:{settings.rasa_port}"
    derived = {
        **dict.fromkeys(sorted(rasa_variables()), ""),  # empty: the channel refuses, or its default
        "RUN_DIR": str(run_dir),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ActionSettings().action_port}/webhook",
        "TRACKER_DB_DIALECT": settings.tracker_db_dialect,
        "TRACKER_DB": settings.tracker_database,
        "TRACKER_DB_HOST": settings.tracker_db_host,
        "TRACKER_DB_USER": settings.tracker_db_user,
        "TRACKER_DB_PASSWORD": settings.tracker_db_password.get_secret_value(),
        "LOCK_STORE_TYPE": settings.lock_store_type,
        "LOCK_STORE_HOST": settings.lock_store_host,
        "LOCK_STORE_PORT": str(settings.lock_store_port),
        "LOCK_STORE_DB": str(settings.lock_store_db),
        "LOCK_STORE_PASSWORD": settings.lock_store_password.get_secret_value(),
        "REGISTRY_URL": f"http://127.0.0.1:{settings.registry_port}",
        "REGISTRY_DATABASE_URL": f"sqlite:///{run_dir / 'registry.db'}",
        "REVIEW_DATABASE_URL": f"sqlite:///{run_dir / 'review.db'}",
        "REVIEW_RASA_URL": rasa_url,
        # The training gate swaps the model in every Rasa process (training/hotswap.py), not in
        # whichever one nginx would pick.
        "RASA_URL": ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports(settings)),
        **THREADS,  # one thread per numeric library and process (core/threads.py)
    }
    derived["REVIEW_TRACKER_STORE_URL"] = review_tracker_url(settings)
    for name, value in derived.items():
        os.environ[name] = os.environ.get(name) or value
    os.environ.update(PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    return SupervisorSettings()


def review_tracker_url(settings: SupervisorSettings) -> str:
    """The review app reads the conversations where Rasa writes them (SQLAlchemy URL, psycopg 3)."""
    if settings.tracker_db_dialect == "sqlite":
        return f"sqlite:///{settings.tracker_database}"
    host, _, port = settings.tracker_db_host.partition(":")
    url = URL.create(
        "postgresql+psycopg"
        if settings.tracker_db_dialect.startswith("postgres")
        else settings.tracker_db_dialect,
        username=settings.tracker_db_user or None,
        password=settings.tracker_db_password.get_secret_value() or None,
        host=host or None,
        port=int(port) if port else None,
        database=settings.tracker_database,
    )
    return url.render_as_string(hide_password=False)


def has_model(settings: SupervisorSettings) -> bool:
    path = Path(settings.model)
    return path.is_file() or any(path.glob("*.tar.gz"))


def ensure_review_admin(settings: SupervisorSettings) -> None:
    """On a new run folder the review app gets an admin "admin" with the generated password."""
    subprocess.run(
        [sys.executable, "-m", "services.review", "create-user", "admin", "--role=admin", "--password-stdin"],
        input=settings.review_admin_password.get_secret_value() + "\n",
        capture_output=True,  # refused when it exists already
        text=True,
        cwd=ROOT,
        check=False,
    )
