"""Responses served from the domain files as they are now, not as they were when the model was trained.

Rasa builds its response generator from ``endpoints.yml``::

    nlg:
      type: rasa_project.nlg.LiveContentNLG

An answer approved in the review app is written to its domain file; the next message that needs it
gets the new text, without retraining or restarting Rasa: the model still picks the answer by its
name (``utter_faq/<topic>``), and the next ``make train`` learns the new wording for the selector.
Each call costs one ``stat`` per domain file; only when a file changed are the files parsed again,
in a worker thread, so the event loop never waits on YAML. Rendering is Rasa's own
(``TemplatedNaturalLanguageGenerator``): variations, channels, conditions and ``{slot}`` filling
behave exactly as with the default generator.

What is served: every response of the model, overridden by the files' approved answers
(variations with ``metadata.status: approved``; a draft never reaches people). Contact variables
(``{kontak_...}``) come from the files' ``kontak_*`` slots, so a corrected phone number is live too.
If the files cannot be read or parsed, the model's responses are served (they passed validation
when it was trained) and an error is logged until the files are fixed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from pathlib import Path
from typing import Any

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_project import action_client, action_results, domain_digest, hot_paths, model_loading, parse_cache
from rasa_project.content import (
    ContentError,
    Responses,
    Signature,
    content_dir,
    load_content,
    servable,
    signature,
)

logger = logging.getLogger(__name__)

CONTENT_DIR_KEY = "content_dir"  # optional key of the ``nlg:`` endpoint; else TANYAVAKSIN_CONTENT_DIR


_KEPT_PAYLOAD = "kept as written"


class LiveContentNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator over the model's responses plus the domain files' current ones."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        directory: Path | None = None,
    ) -> None:
        configured = endpoint_config.kwargs.get(CONTENT_DIR_KEY) if endpoint_config else None
        self.directory = directory or (Path(str(configured)) if configured else content_dir())
        self._model_responses: Responses = dict(domain.responses) if domain else {}
        self._live_responses: Responses = {}
        self._contacts: dict[str, str] = {}
        self._signature: Signature | None = None
        self._merged: Responses = dict(self._model_responses)
        self._reload_lock = asyncio.Lock()
        self.last_reload_seconds: float | None = None
        super().__init__(self._model_responses)
        self.refresh()
        action_results.install()  # the action server's responses are checked with a compiled schema
        domain_digest.install()  # the domain goes to the action server once, then its digest
        action_client.install()  # action calls over kept-alive connections
        parse_cache.install()  # a text repeated word for word is not parsed again
        hot_paths.install()  # event classes by name and the domain's emptiness, looked up once
        # Created before the server loads its model (Agent.__init__): the model loads, at start and on
        # every hot swap, without tracing a training step.
        model_loading.install()

    # Rasa's Agent assigns ``nlg.responses = domain.responses`` whenever it loads a model (also on a
    # hot swap through the HTTP API): that sets the model's responses; reads return the merged view.
    @property
    def responses(self) -> Responses:
        return self._merged

    @responses.setter
    def responses(self, value: Responses) -> None:
        self._model_responses = dict(value or {})
        self._merge()

    @property
    def contacts(self) -> dict[str, str]:
        return dict(self._contacts)

    def _merge(self) -> None:
        self._merged = {**self._model_responses, **self._live_responses}

    def _changed(self) -> Signature | None:
        """The folder's new signature if it differs from the one last loaded, else None."""
        try:
            current = signature(self.directory)
        except OSError as error:
            current = (("unreadable", 0, 0, hash(str(error))),)
        return current if current != self._signature else None

    def _load(self, current: Signature) -> None:
        """Parse the files and switch to them (blocking: runs in a worker thread from ``generate``)."""
        started = time.perf_counter()
        try:
            content = load_content(self.directory)
        except (ContentError, OSError) as error:
            logger.error("Serving the model's responses: the content files cannot be used: %s", error)
            self._live_responses, self._contacts = {}, {}
        else:
            self._live_responses, self._contacts = servable(content.responses), content.contacts
            logger.info(
                "Content loaded from %s: %d responses, %d contacts",
                self.directory,
                len(self._live_responses),
                len(self._contacts),
            )
        self._signature = current
        self._merge()
        self.last_reload_seconds = time.perf_counter() - started

    def refresh(self) -> bool:
        """Reload now if a file changed (synchronously); whether it reloaded."""
        current = self._changed()
        if current is None:
            return False
        self._load(current)
        return True

    async def refresh_async(self) -> bool:
        """``refresh`` without blocking the event loop; concurrent callers wait for one reload."""
        if self._changed() is None:
            return False
        async with self._reload_lock:
            current = self._changed()
            if current is None:
                return False
            await asyncio.to_thread(self._load, current)
            return True

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        await self.refresh_async()
        filled_slots = {**tracker.current_slot_values(), **self._contacts}
        return self._not_a_repeat(utter_action, filled_slots, output_channel, last_bot_text(tracker), kwargs)

    def _not_a_repeat(
        self,
        utter_action: str,
        filled_slots: dict[str, Any],
        output_channel: str,
        previous: str | None,
        kwargs: dict[str, Any],
    ) -> dict[str, Any] | None:
        """The first suitable variation whose text is not the bot's last message (issue #12: never the
        same message twice in a row); the first one when every variation would repeat it.

        Deterministic rather than Rasa's random pick: a recipient (and a test) gets the first
        variation, and a second variation is written as what to say the second time ("Halo lagi!").
        The actions handle their own repeats with purpose-made texts (actions/choices.py ``repeats``).
        """
        if utter_action not in self.responses:
            return None
        variations = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, filled_slots
        )
        chosen: dict[str, Any] | None = None
        for variation in variations:
            filled = self._fill_response(copy.deepcopy(variation), filled_slots, **kwargs)
            if chosen is None:
                chosen = filled
            if previous is None or filled.get("text") != previous:
                return filled
        return chosen

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Rasa's filling, except that an intent payload (``/show_menu{"menu_category":"umum"}``) is
        left as written: its JSON braces are not template variables.

        Rasa's interpolator took them for slot names, logged an ERROR with the whole exception for each
        such button and then left the payload as it was: four ERRORs each time the menu was shown,
        2,421 in one ``make load``. Titles and descriptions are filled as before.
        """
        buttons = response.get("buttons")
        kept: dict[int, str] = {}
        if isinstance(buttons, list):
            for index, button in enumerate(buttons):
                payload = button.get("payload") if isinstance(button, dict) else None
                if isinstance(payload, str) and payload.startswith("/"):
                    kept[index] = payload
                    button["payload"] = _KEPT_PAYLOAD  # no braces: nothing to fill; the key keeps its place
        filled: dict[str, Any] = super()._fill_response(response, filled_slots, **kwargs)
        for index, payload in kept.items():
            filled["buttons"][index]["payload"] = payload
        return filled

    def response_names(self) -> list[str]:
        return sorted(self._merged)


def last_bot_text(tracker: DialogueStateTracker) -> str | None:
    """The text of the bot's last message in the conversation, if it said anything yet."""
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered) and event.text:
            return event.text
    return None
