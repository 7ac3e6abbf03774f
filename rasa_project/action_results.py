"""Rasa's check of what the action server answers, with the schema compiled once.

Rasa 3.6 validates every custom action's response (``RemoteAction._validate_action_result``) with
``jsonschema.validate(result, schema)``, which first validates the *schema* against JSON Schema's
2020-12 meta-schema, on every call. Under load that meta-schema check was a quarter of the Rasa
process's CPU (py-spy, ``make load``, 7 Dec 2026: jsonschema and the URL parsing of its references
in 33 % of the busy samples). Here the same schema (Rasa's ``action_response_format_spec``) is
checked once and its validator kept: each response is still validated, and an invalid one still
raises the same ``ValidationError`` with Rasa's explanation.

``install()`` runs when the live NLG is created (``rasa_project/nlg.py``): the NLG renders the action
server's responses, and every deployment of this project loads it (endpoints.yml). Idempotent.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_INSTALLED = "_tanyavaksin_compiled_validator"


def response_validator() -> Any:
    """Rasa's response schema, checked against its meta-schema once, as a reusable validator."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install() -> None:
    if getattr(RemoteAction, _INSTALLED, None) is not None:
        return
    validator = response_validator()

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from "
                f"the Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}"
                "/custom-actions"
            )
            raise
        return True

    setattr(RemoteAction, _INSTALLED, validator)
    RemoteAction._validate_action_result = validate_action_result
