"""Custom actions served by the action server (``python -m actions.server``: rasa-sdk behind a token)."""

from actions import semantic_search
from actions.fallback import ActionAnswerFaq, ActionUncertainAnswer
from actions.handoff import ActionHandoffWait, ActionReleaseHandoff, ActionRequestHandoff
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu
from actions.schedule import (
    ActionAskScheduleBirthDate,
    ActionAskScheduleNik,
    ActionCancelSchedule,
    ActionLookupSchedule,
    ValidateScheduleForm,
)

semantic_search.preload_when_serving()

__all__ = [
    "ActionAnswerFaq",
    "ActionAnswerTopic",
    "ActionAskScheduleBirthDate",
    "ActionAskScheduleNik",
    "ActionCancelSchedule",
    "ActionChooseOption",
    "ActionHandoffWait",
    "ActionLookupSchedule",
    "ActionReleaseHandoff",
    "ActionRequestHandoff",
    "ActionShowMenu",
    "ActionUncertainAnswer",
    "ValidateScheduleForm",
]
