"""The fallback path answers honestly instead of guessing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionUncertainAnswer


async def test_uncertain_message_gets_the_honest_fallback(
    tracker_from_snapshot: Callable[[str], Tracker],
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
) -> None:
    events = await ActionUncertainAnswer().run(
        dispatcher, tracker_from_snapshot("tracker_nlu_fallback"), domain
    )
    assert events == []
    assert [message["response"] for message in dispatcher.messages] == ["utter_uncertain_answer"]
