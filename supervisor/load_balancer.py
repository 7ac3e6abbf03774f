"""nginx in front of several Rasa and action-server processes (RASA_INSTANCES, ACTION_INSTANCES > 1).

A Python server uses one core (the GIL, and Rasa's event loop): on a machine with N cores, N Rasa
processes answer up to N times the messages. They share the PostgreSQL tracker store and Rasa's
Redis lock store, so any process can take any message of any conversation, in order: round robin is
enough and nothing needs to know who the sender is. Each process listens on loopback on a port of
its own (``instance_ports``); nginx (Debian's package, ``scripts/setup_nginx.sh``) listens where one
process would, so clients, Rasa's ACTION_ENDPOINT_URL and the review app do not change.

The configuration is written into the run folder at each start, from the settings: nothing in it is
edited by hand. A request that could not reach a process (refused: it is restarting) goes to the
next; one that reached a process is never sent twice (a POST is not idempotent), so a process killed
while answering costs that request a 502, which WhatsApp retries and the channel de-duplicates.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from actions.settings import ActionSettings
from supervisor.settings import INSTANCE_PORT_OFFSET, SupervisorSettings

NGINX_CONFIG = Path("nginx") / "nginx.conf"
# Above the channels' own limit (1 MiB, rasa_project/channels/inbound.py), which answers in Indonesian;
# nginx only turns away what no channel would read. Bodies are kept in memory (no temp files: the run
# folder is the owner's only, and nginx's workers run as another user when started as root).
MAX_BODY = "2m"
# Rasa answers a message in well under a second; a model swap (PUT /model) takes minutes.
READ_TIMEOUT_SECONDS = 600


def instance_ports(public_port: int, instances: int, balanced: bool) -> list[int]:
    """The ports of a server's processes: the public port itself without a load balancer."""
    if not balanced:
        return [public_port]
    return [public_port + INSTANCE_PORT_OFFSET + number for number in range(instances)]


def rasa_ports(settings: SupervisorSettings) -> list[int]:
    """Where the stack's Rasa processes listen (RASA_URL lists them; nginx and the supervisor use them)."""
    return instance_ports(settings.rasa_port, settings.rasa_instances, settings.load_balanced)


def action_ports(settings: SupervisorSettings) -> list[int]:
    return instance_ports(ActionSettings().action_port, settings.action_instances, settings.load_balanced)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def nginx_command(config: Path) -> tuple[str, ...]:
    """In the foreground (the supervisor watches it), its error log in the run folder from the start.

    Absolute paths: nginx reads a relative ``-c`` or ``-e`` under its prefix, itself relative (RUN_DIR
    may be given relative to the checkout).
    """
    config = config.absolute()
    return (nginx_binary() or "nginx", "-c", str(config), "-p", str(config.parent),
            "-e", str(config.parent / "error.log"), "-g", "daemon off;")  # fmt: skip


def _upstream(name: str, ports: Sequence[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports)
    return f"""    upstream {name} {{
        least_conn;
{servers}
        keepalive 64;
    }}
"""


def _proxy(listen: str, upstream: str) -> str:
    return f"""    server {{
        listen {listen};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 2s;
            proxy_read_timeout {READ_TIMEOUT_SECONDS}s;
            proxy_send_timeout 30s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
"""


def render_config(
    run_dir: Path, rasa_listen: str, rasa_ports: Sequence[int], action_port: int, action_ports: Sequence[int]
) -> str:
    """The whole nginx.conf; ``rasa_listen`` is ``interface:port`` (the public one)."""
    folder = run_dir.absolute() / NGINX_CONFIG.parent
    temp = "\n".join(
        f"    {kind}_temp_path {folder / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    servers = (
        _upstream("rasa", rasa_ports)
        + _upstream("actions", action_ports)
        + _proxy(rasa_listen, "rasa")
        + _proxy(f"127.0.0.1:{action_port}", "actions")
    )
    return f"""# Written by the supervisor at each start (supervisor/load_balancer.py); edits are lost.
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
    client_max_body_size {MAX_BODY};
    client_body_buffer_size {MAX_BODY};
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_max_temp_file_size 0;
{temp}
{servers}}}
"""


def write_for(settings: SupervisorSettings) -> Path:
    """The stack's nginx.conf: the public Rasa address and the action port in front of the processes."""
    return write_config(
        settings.run_dir,
        f"{settings.rasa_interface}:{settings.rasa_port}",
        rasa_ports(settings),
        ActionSettings().action_port,
        action_ports(settings),
    )


def write_config(
    run_dir: Path, rasa_listen: str, rasa_ports: Sequence[int], action_port: int, action_ports: Sequence[int]
) -> Path:
    """The configuration file, written afresh; its temp folders exist (nginx will not create them)."""
    config = run_dir / NGINX_CONFIG
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (config.parent / "temp" / kind).mkdir(parents=True, exist_ok=True)
    config.write_text(
        render_config(run_dir, rasa_listen, rasa_ports, action_port, action_ports), encoding="utf-8"
    )
    return config
