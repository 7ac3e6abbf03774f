"""Custom actions served by the rasa-sdk action server (``python -m rasa_sdk --actions actions``)."""

from actions import semantic_search
from actions.fallback import ActionAnswerFaq, ActionUncertainAnswer
from actions.handoff import ActionHandoffWait, ActionReleaseHandoff, ActionRequestHandoff
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu
from actions.schedule import ActionCancelSchedule, ActionLookupSchedule, ValidateScheduleForm

semantic_search.preload_when_serving()

__all__ = [
    "ActionAnswerFaq",
    "ActionAnswerTopic",
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
