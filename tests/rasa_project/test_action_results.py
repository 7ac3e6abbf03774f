"""The action server's responses are validated as Rasa validates them, with the schema compiled once."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from rasa_project import action_results
from rasa_project.nlg import LiveContentNLG

RESPONSES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "fallback_streak", "value": 1}], "responses": [{"response": "x"}]},
    {"events": [{"event": "bot", "text": "halo"}]},
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"responses": ["not an object"]},
    {"events": [{"no": "event name"}]},
]


def rasa_accepts(result: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())  # what Rasa does per call
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("result", RESPONSES)
def test_the_compiled_check_accepts_and_refuses_what_rasa_s_own_does(result: dict[str, Any]) -> None:
    action_results.install()
    action = RemoteAction("action_answer_faq", None)
    if rasa_accepts(result):
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(result)


def test_the_live_nlg_installs_it(tmp_path: Any) -> None:
    LiveContentNLG(directory=tmp_path)
    assert getattr(RemoteAction, action_results._INSTALLED) is not None
    assert rasa_accepts(RESPONSES[3]) is False, "the samples include refused responses"
