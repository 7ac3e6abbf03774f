"""Custom actions served by the rasa-sdk action server (``python -m rasa_sdk --actions actions``)."""

from actions.fallback import ActionUncertainAnswer

__all__ = ["ActionUncertainAnswer"]
