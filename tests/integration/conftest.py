"""Starts the assistant the way `make run` does, on its own ports and run folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.assistant_process import AssistantProcess, start_assistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantProcess]:
    running = start_assistant(tmp_path_factory.mktemp("run"), rasa_port=15005, action_port=15055)
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()
