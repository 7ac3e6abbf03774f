"""Custom actions served by the action server (``python -m actions.server``: rasa-sdk behind a token)."""

from actions import semantic_search
from actions.correction import (
    ActionAskCorrectionConfirmed,
    ActionAskCorrectionField,
    ActionAskCorrectionValue,
    ActionCancelCorrection,
    ActionShowMyData,
    ActionStartCorrection,
    ActionSubmitCorrection,
    ValidateCorrectionForm,
)
from actions.fallback import ActionAnswerFaq, ActionUncertainAnswer
from actions.handoff import ActionHandoffWait, ActionReleaseHandoff, ActionRequestHandoff
from actions.kipi import (
    ActionAskKipiConfirmed,
    ActionAskKipiOnset,
    ActionAskKipiPlace,
    ActionAskKipiSeverity,
    ActionAskKipiSymptoms,
    ActionCancelKipi,
    ActionStartKipi,
    ActionSubmitKipi,
    ValidateKipiForm,
)
from actions.menu import ActionAnswerTopic, ActionChooseOption, ActionShowMenu
from actions.outreach import ActionNoticeReply, ActionOptIn, ActionOptOut
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
    "ActionAskCorrectionConfirmed",
    "ActionAskCorrectionField",
    "ActionAskCorrectionValue",
    "ActionAskKipiConfirmed",
    "ActionAskKipiOnset",
    "ActionAskKipiPlace",
    "ActionAskKipiSeverity",
    "ActionAskKipiSymptoms",
    "ActionAskScheduleBirthDate",
    "ActionAskScheduleNik",
    "ActionCancelCorrection",
    "ActionCancelKipi",
    "ActionCancelSchedule",
    "ActionChooseOption",
    "ActionHandoffWait",
    "ActionLookupSchedule",
    "ActionNoticeReply",
    "ActionOptIn",
    "ActionOptOut",
    "ActionReleaseHandoff",
    "ActionRequestHandoff",
    "ActionShowMenu",
    "ActionShowMyData",
    "ActionStartCorrection",
    "ActionStartKipi",
    "ActionSubmitCorrection",
    "ActionSubmitKipi",
    "ActionUncertainAnswer",
    "ValidateCorrectionForm",
    "ValidateKipiForm",
    "ValidateScheduleForm",
]
