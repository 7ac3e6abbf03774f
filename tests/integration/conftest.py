"""Two assistants for the whole session, started the way `make run` starts them, on their own ports.

Starting one takes a minute or more on 2 cores (Rasa loads its model, the action server its
sentence model), so the modules share them instead of starting their own:

- ``assistant``: never killed nor reconfigured by a test. Its WhatsApp channel points at the fake
  Graph API (``graph_api``), so REST and WhatsApp tests run on it; distinct senders and phones keep
  the tests independent.
- ``disposable``: for the tests that kill a server (registry, action server, Rasa) or stop the whole
  process group. Its supervisor checks health every 0.5 s and restarts a dead server after 1 s.
  The test that stops it for good is marked ``last`` and runs after every other test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.harness.assistant_process import AssistantProcess, start_assistant
from tests.harness.whatsapp.fake_graph_api import FakeGraphApi, FakeGraphApiThread
from tests.integration.support import ON_DUTY_AROUND_THE_CLOCK, WHATSAPP_SECRETS

FAKE_GRAPH_PORT = 15189


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: stops the disposable assistant, so runs after every other test")


# Its own Rasa server, review app and chromium; no session assistant. `make integration` runs it in a
# lane of its own (Makefile); run here with the rest, it goes first, before the session assistants
# start (once started, they stay up until the end).
FIRST = "test_trainer_loop.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The trainer's loop first, the ``last`` tests at the end; the sort is stable, so the others
    keep their order."""
    items.sort(key=lambda item: (item.path.name != FIRST, item.get_closest_marker("last") is not None))


@contextmanager
def running(
    run_dir: Path, rasa_port: int, action_port: int, env: dict[str, str]
) -> Iterator[AssistantProcess]:
    stack = start_assistant(run_dir, rasa_port, action_port, extra_env=env)
    try:
        stack.wait_until_up()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def graph_api() -> Iterator[FakeGraphApiThread]:
    fake = FakeGraphApi(access_token=WHATSAPP_SECRETS["WHATSAPP_ACCESS_TOKEN"])
    thread = FakeGraphApiThread(fake, FAKE_GRAPH_PORT).start()
    try:
        yield thread
    finally:
        thread.stop()


def whatsapp_env(graph_api: FakeGraphApiThread) -> dict[str, str]:
    """The channel and the registry's one-time codes go to the fake; seen ids stay in the tracker store."""
    return {
        **WHATSAPP_SECRETS,
        "WHATSAPP_GRAPH_API_URL": f"{graph_api.base_url}/v21.0",
        "WHATSAPP_SEEN_STORE_URL": "",
        "OFFICER_WORKING_HOURS": ON_DUTY_AROUND_THE_CLOCK,
        # The outreach worker sends at any hour here (equal start and end: no quiet hours).
        "REGISTRY_OUTREACH_QUIET_START": "00:00",
        "REGISTRY_OUTREACH_QUIET_END": "00:00",
    }


@pytest.fixture(scope="session")
def assistant(
    tmp_path_factory: pytest.TempPathFactory, graph_api: FakeGraphApiThread
) -> Iterator[AssistantProcess]:
    with running(tmp_path_factory.mktemp("run"), 15005, 15055, whatsapp_env(graph_api)) as stack:
        yield stack


@pytest.fixture(scope="session")
def disposable(
    tmp_path_factory: pytest.TempPathFactory, graph_api: FakeGraphApiThread
) -> Iterator[AssistantProcess]:
    run_dir = tmp_path_factory.mktemp("disposable-run")
    # test_supervision.py: a file written there before the run is made owner-only as well.
    (run_dir / "earlier-run.log").write_text("written before the umask\n")
    (run_dir / "earlier-run.log").chmod(0o644)
    env = {
        **whatsapp_env(graph_api),
        "SUPERVISOR_HEALTH_INTERVAL_SECONDS": "0.5",
        "SUPERVISOR_BACKOFF_INITIAL_SECONDS": "1",
    }
    with running(run_dir, 15250, 15255, env) as stack:
        yield stack
