"""Indonesian tokeniser for Rasa backed by spaCy.

Rasa's own SpacyTokenizer needs a trained spaCy pipeline, and spaCy ships none
for Indonesian. This component uses spaCy's rule-based Indonesian tokenizer
(clitics, reduplication, punctuation) and its lookup lemmatiser from
``spacy-lookups-data``, after mapping WhatsApp shorthand to standard words, so
that ``udh``, ``sudah`` and ``sudahkah`` reach the featurisers as one lemma.
"""

from __future__ import annotations

import re
from typing import Any

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from spacy.pipeline import Lemmatizer

from rasa_project.components.slang import SLANG_TO_STANDARD

_REPEATED_CHAR = re.compile(r"(\w)\1{2,}")
_DIGIT_REDUPLICATION = re.compile(r"^(\D{2,})2$")
_CLITICS = ("nya", "ku", "mu")


def build_indonesian_nlp() -> spacy.language.Language:
    """A blank Indonesian pipeline with the lookup lemmatiser initialised."""
    nlp = spacy.blank("id")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class IndonesianNormaliser:
    """Maps one chat token to the standard lemma the featurisers see."""

    def __init__(self, nlp: spacy.language.Language) -> None:
        self._nlp = nlp
        lemmatizer: Lemmatizer = nlp.get_pipe("lemmatizer")  # type: ignore[assignment]
        self._lookup = lemmatizer.lookups.get_table("lemma_lookup")
        self._known_stems = {str(lemma) for lemma in self._lookup.values()}
        self._known_stems.update(filter(None, SLANG_TO_STANDARD.values()))

    def normalise(self, token_text: str) -> str:
        """The lemma of a token, or "" for a filler word that carries no meaning."""
        word = _REPEATED_CHAR.sub(r"\1", token_text.lower())
        reduplicated = _DIGIT_REDUPLICATION.match(word)
        if reduplicated:  # "anak2" is written for "anak-anak"
            word = reduplicated.group(1)
        head, dash, tail = word.partition("-")
        if dash and head == tail:
            word = head
        if word in SLANG_TO_STANDARD:
            return SLANG_TO_STANDARD[word]
        if word in self._lookup:
            return str(self._lookup[word])
        return self._strip_clitic(word)

    def _strip_clitic(self, word: str) -> str:
        """``vaksinku`` and ``sertifikatnya`` are the known stem plus a clitic."""
        for clitic in _CLITICS:
            stem = word[: -len(clitic)]
            if word.endswith(clitic) and len(stem) >= 3:
                if SLANG_TO_STANDARD.get(stem):
                    return SLANG_TO_STANDARD[stem]
                if stem in self._known_stems:
                    return stem
                if stem in self._lookup:
                    return str(self._lookup[stem])
        return word


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndonesianSpacyTokenizer(Tokenizer):
    """Tokens keep their original text and offsets; the lemma is normalised."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy", "spacy_lookups_data"]

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["id"]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._nlp = build_indonesian_nlp()
        self._normaliser = IndonesianNormaliser(self._nlp)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianSpacyTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        doc = [spacy_token for spacy_token in self._nlp.make_doc(text) if not spacy_token.is_space]
        # "??" or an emoji alone is still a message: keep its symbols rather than no tokens at all
        words = [spacy_token for spacy_token in doc if not spacy_token.is_punct] or doc
        lemmas = [self._normaliser.normalise(word.text) for word in words]
        tokens = [Token(word.text, word.idx, lemma=lemma) for word, lemma in zip(words, lemmas) if lemma]
        if not tokens:  # "deh" alone is still a message
            tokens = [Token(word.text, word.idx, lemma=word.lower_) for word in words]
        return self._apply_token_pattern(tokens)
