"""Two lookups Rasa 3.6 repeats on every message, answered once per process.

py-spy on a Rasa process under ``make load`` (8 Dec 2026, two Rasa processes at concurrency 16,
samples holding the GIL) found, besides the NLU and the policies:

- **``Event.resolve_by_type``** walks every subclass of ``Event`` (``all_subclasses``, recursive,
  with an ``inspect.isabstract`` per class) to turn each stored event's type name into its class:
  once per event read from the tracker store and per event an action returns. 2.5 % of the samples.
  Here each type name is resolved by Rasa's own function the first time and remembered. Only a found
  class is remembered: an unknown name still raises (or gets the default) as before.
- **``Domain.is_empty``** compares ``self.as_dict()`` with an empty domain's, built from scratch,
  for the unseen-feature check of every parse: the whole domain (every FAQ answer) as a dict each
  message, 1.2 % of the samples. A domain object does not change once loaded (a new model brings a new
  one), so the answer is kept on the object.

``install()`` runs with the live NLG (``rasa_project/nlg.py``), like the other Rasa-side changes.
Idempotent.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

_INSTALLED = "_tanyavaksin_hot_paths"
_IS_EMPTY = "_tanyavaksin_is_empty"


def install() -> None:
    if getattr(Event, _INSTALLED, False):
        return
    resolve = Event.resolve_by_type
    resolved: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        known = resolved.get(type_name)
        if known is not None:
            return known
        found = resolve(type_name, default)  # Rasa's answer; for an unknown name the default or its error
        if found is not None and found is not default:
            resolved[type_name] = found
        return found

    is_empty = Domain.is_empty

    def is_empty_once(self: Domain) -> bool:
        kept: Any = self.__dict__.get(_IS_EMPTY)
        if kept is None:
            kept = is_empty(self)
            self.__dict__[_IS_EMPTY] = kept
        return bool(kept)

    Event.resolve_by_type = staticmethod(resolve_by_type)
    Domain.is_empty = is_empty_once
    setattr(Event, _INSTALLED, True)
