"""Several Rasa and action-server processes behind nginx: settings, the processes started, and the
real nginx (Debian's, scripts/setup_nginx.sh) in front of small HTTP servers, one of them killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from supervisor.components import ACTION_SERVER, LOAD_BALANCER, RASA_SERVER, assistant_components
from supervisor.environment import review_tracker_url
from supervisor.load_balancer import instance_ports, nginx_binary, nginx_command, write_config
from supervisor.settings import INSTANCE_PORT_OFFSET, SupervisorSettings

DUMMY = Path(__file__).with_name("dummy_server.py")
SHARED: dict[str, Any] = {
    "tracker_db_dialect": "postgresql",
    "tracker_db": "tanyavaksin",
    "lock_store_type": "redis",
}


def nginx() -> str:
    binary = nginx_binary()
    assert binary, "nginx is missing: run scripts/setup_nginx.sh (make test does)"
    return binary


def test_one_process_each_needs_no_load_balancer() -> None:
    settings = SupervisorSettings(rasa_port=15900)
    names = [spec.name for spec in assistant_components(settings)]
    assert LOAD_BALANCER not in names
    rasa = next(spec for spec in assistant_components(settings) if spec.name == RASA_SERVER)
    assert rasa.command[rasa.command.index("--port") + 1] == "15900"


@pytest.mark.parametrize("shared", [{}, {"tracker_db_dialect": "postgresql"}, {"lock_store_type": "redis"}])
def test_several_rasa_processes_refuse_unshared_stores(shared: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        SupervisorSettings(rasa_instances=2, **shared)
    assert "TRACKER_DB_DIALECT=postgresql" in str(error.value) and "LOCK_STORE_TYPE=redis" in str(error.value)


def test_instances_listen_on_their_own_loopback_ports_behind_nginx_on_the_public_ones() -> None:
    settings = SupervisorSettings(
        rasa_port=15900, rasa_interface="0.0.0.0", rasa_instances=2, action_instances=3, **SHARED
    )
    specs = {spec.name: spec for spec in assistant_components(settings)}
    assert {
        RASA_SERVER,
        f"{RASA_SERVER} 2",
        ACTION_SERVER,
        f"{ACTION_SERVER} 2",
        f"{ACTION_SERVER} 3",
    } <= set(specs)
    for number, name in enumerate((RASA_SERVER, f"{RASA_SERVER} 2")):
        command = specs[name].command
        assert command[command.index("--port") + 1] == str(15900 + INSTANCE_PORT_OFFSET + number)
        assert command[command.index("--interface") + 1] == "127.0.0.1", "only nginx faces the network"
    action_ports = [
        specs[name].environment["ACTION_PORT"] for name in specs if name.startswith(ACTION_SERVER)
    ]
    assert len(set(action_ports)) == 3
    assert specs[LOAD_BALANCER].health_url == "http://127.0.0.1:15900/"


def test_the_written_configuration_is_one_nginx_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # RUN_DIR relative to the working directory, as `RUN_DIR=.run` gives
    config = write_config(Path("run"), "127.0.0.1:15900", [16001, 16002], 15955, [16055, 16056])
    text = config.read_text()
    assert "server 127.0.0.1:16001" in text and "server 127.0.0.1:16056" in text
    assert "listen 127.0.0.1:15900;" in text and "listen 127.0.0.1:15955;" in text
    checked = subprocess.run([*nginx_command(config)[:-2], "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def backends() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [
        subprocess.Popen([sys.executable, str(DUMMY), str(port), "ok"], start_new_session=True)
        for port in (16011, 16012)
    ]
    try:
        for port in (16011, 16012):
            wait_for(f"http://127.0.0.1:{port}/health")
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def test_nginx_shares_requests_and_passes_over_a_dead_process(
    tmp_path: Path, backends: list[subprocess.Popen[bytes]]
) -> None:
    nginx()
    config = write_config(tmp_path, "127.0.0.1:16010", [16011, 16012], 16013, [16011, 16012])
    balancer = subprocess.Popen(nginx_command(config), start_new_session=True)
    try:
        wait_for("http://127.0.0.1:16010/health")
        with httpx.Client(timeout=5) as client:
            served = Counter(
                int(client.get("http://127.0.0.1:16010/health").headers["x-served-by"]) for _ in range(20)
            )
            assert set(served) == {16011, 16012}, served
            os.killpg(backends[0].pid, signal.SIGKILL)
            backends[0].wait()
            answers = [client.get("http://127.0.0.1:16010/health") for _ in range(20)]
        assert [answer.status_code for answer in answers] == [200] * 20, "a refused process is passed over"
        assert {int(answer.headers["x-served-by"]) for answer in answers} == {16012}
    finally:
        balancer.send_signal(signal.SIGTERM)
        balancer.wait(timeout=10)


def test_instance_ports_without_a_balancer_are_the_public_port() -> None:
    assert instance_ports(5005, 1, balanced=False) == [5005]
    assert instance_ports(5005, 2, balanced=True) == [
        5005 + INSTANCE_PORT_OFFSET,
        5006 + INSTANCE_PORT_OFFSET,
    ]


def test_the_review_app_reads_the_postgresql_tracker_store_rasa_writes() -> None:
    settings = SupervisorSettings(
        tracker_db_dialect="postgresql", tracker_db="tanyavaksin", tracker_db_host="db.internal:5433",
        tracker_db_user="rasa", tracker_db_password=SecretStr("s3cret"), lock_store_type="redis",
    )  # fmt: skip
    assert review_tracker_url(settings) == "postgresql+psycopg://rasa:s3cret@db.internal:5433/tanyavaksin"
    assert review_tracker_url(SupervisorSettings(tracker_db="/run/t.db")) == "sqlite:////run/t.db"
