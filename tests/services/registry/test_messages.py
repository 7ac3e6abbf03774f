from __future__ import annotations

import pytest

from core.durations import format_duration
from services.registry.messages import locked


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600, "1 jam"),
        (3599, "1 jam"),
        (2700, "45 menit"),
        (5400, "1 jam 30 menit"),
        (1, "1 menit"),
        (61, "2 menit"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_locked_message_says_for_how_long_and_what_to_do() -> None:
    message = locked(3600)
    assert "dikunci" in message
    assert "1 jam" in message
    assert "puskesmas" in message
    assert "119" not in message  # contacts come from the assistant's one contact block
