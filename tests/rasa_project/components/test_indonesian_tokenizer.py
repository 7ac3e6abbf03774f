"""The tokenizer gives the featurisers standard Indonesian lemmas for chat text."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from rasa_project.components.indonesian_tokenizer import IndonesianSpacyTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> IndonesianSpacyTokenizer:
    return IndonesianSpacyTokenizer(IndonesianSpacyTokenizer.get_default_config())


def lemmas(tokenizer: IndonesianSpacyTokenizer, text: str) -> list[str]:
    return [token.lemma for token in tokenizer.tokenize(Message({"text": text}), "text")]


@pytest.mark.parametrize(
    ("chat", "standard"),
    [
        ("udh vaksin", "sudah vaksin"),
        ("sy blm vaksin", "saya belum vaksin"),
        ("brp biayanya", "berapa biaya"),
        ("gmn caranya", "bagaimana cara"),
        ("anak2 yg sakit", "anak-anak yang sakit"),
        ("divaksinnn", "vaksin"),
    ],
)
def test_chat_shorthand_and_standard_words_share_lemmas(
    tokenizer: IndonesianSpacyTokenizer, chat: str, standard: str
) -> None:
    assert lemmas(tokenizer, chat) == lemmas(tokenizer, standard)


def test_affixed_words_are_lemmatised_with_the_spacy_lookup_table(
    tokenizer: IndonesianSpacyTokenizer,
) -> None:
    assert lemmas(tokenizer, "mendaftarkan pendaftaran berumur") == ["daftar", "daftar", "umur"]


def test_clitics_on_known_stems_are_removed(tokenizer: IndonesianSpacyTokenizer) -> None:
    assert lemmas(tokenizer, "sertifikatnya vaksinku") == ["sertifikat", "vaksin"]


def test_tokens_keep_the_original_text_and_offsets(tokenizer: IndonesianSpacyTokenizer) -> None:
    text = "Min, sertifikat vaksinku ga muncul?"
    tokens = tokenizer.tokenize(Message({"text": text}), "text")
    assert [text[t.start : t.end] for t in tokens] == [t.text for t in tokens]
    assert "?" not in [t.text for t in tokens]


def test_fillers_are_dropped_but_a_filler_alone_is_kept(tokenizer: IndonesianSpacyTokenizer) -> None:
    assert lemmas(tokenizer, "vaksin dong") == ["vaksin"]
    assert lemmas(tokenizer, "dong") == ["dong"]


def test_a_message_of_symbols_only_still_has_tokens(tokenizer: IndonesianSpacyTokenizer) -> None:
    """Without tokens the featurisers skip a message and DIET's training data goes out of step."""
    assert [token.text for token in tokenizer.tokenize(Message({"text": "???"}), "text")] == ["?", "?", "?"]
