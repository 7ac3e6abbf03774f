"""Rasa's event lookup by name and the domain's emptiness, answered once (``rasa_project/hot_paths.py``)."""

from __future__ import annotations

from typing import Any

import pytest
import rasa.shared.utils.common
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from rasa_project import hot_paths


@pytest.fixture(autouse=True)
def installed() -> None:
    hot_paths.install()


def test_events_are_read_back_as_rasa_reads_them() -> None:
    stored = [
        ActionExecuted("action_listen").as_dict(),
        UserUttered("halo", {"name": "greet", "confidence": 0.9}).as_dict(),
        SlotSet("menu_category", "syarat").as_dict(),
    ]
    events = [Event.from_parameters(data) for data in stored]
    assert [type(event) for event in events] == [ActionExecuted, UserUttered, SlotSet]
    assert [event.as_dict() for event in events] == stored


def test_a_known_name_is_resolved_without_walking_the_subclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Event.resolve_by_type("slot") is SlotSet
    walks: list[Any] = []
    walk = rasa.shared.utils.common.all_subclasses

    def counted_walk(cls: Any) -> list[Any]:
        walks.append(cls)
        return walk(cls)

    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", counted_walk)
    for _ in range(3):
        assert Event.resolve_by_type("slot") is SlotSet
    assert walks == []


def test_an_unknown_name_still_fails_or_gets_the_default() -> None:
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError):  # the default was not remembered for the name
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("topic") is None


def test_the_domain_says_whether_it_is_empty_as_before() -> None:
    assert Domain.empty().is_empty()
    domain = Domain.from_dict({"intents": ["greet"], "responses": {"utter_greet": [{"text": "Halo"}]}})
    assert not domain.is_empty()
    assert not domain.is_empty()  # the kept answer


def test_a_domain_is_converted_once_for_its_emptiness(monkeypatch: pytest.MonkeyPatch) -> None:
    domain = Domain.from_dict({"intents": ["greet"]})
    conversions: list[int] = []
    as_dict = Domain.as_dict

    def counted_as_dict(self: Domain) -> dict[str, Any]:
        conversions.append(1)
        return as_dict(self)

    monkeypatch.setattr(Domain, "as_dict", counted_as_dict)
    for _ in range(5):
        assert not domain.is_empty()
    assert len(conversions) == 2  # this domain's and the empty one's, once
