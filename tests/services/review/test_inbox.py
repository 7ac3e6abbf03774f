"""The inbox shows each unknown, undecided message once, the most urgent first, with the model's best
guess in words and replies with personal data kept apart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.review.inbox import (
    Guess,
    GuessSource,
    InboxCandidate,
    InboxGroup,
    best_guess,
    group_candidates,
    is_shortcut,
    label_words,
    percent,
)
from services.review.training_data import known_examples, normalize

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def candidate(
    event_id: int,
    text: str,
    confidence: float | None = 0.5,
    predicted: str | None = "faq/biaya",
    conversation: str = "c1",
    minutes: int | None = None,
) -> InboxCandidate:
    return InboxCandidate(
        event_id=event_id,
        conversation_id=conversation,
        timestamp=START + timedelta(minutes=event_id if minutes is None else minutes),
        text=text,
        predicted=predicted,
        confidence=confidence,
    )


@pytest.mark.parametrize(
    "text",
    [
        '/faq_choice{"topic": "biaya"}',
        "/release_handoff",
        "  /greet",
        "1",
        " 2 ",
        "no. 3",
        "pilih 4",
        "(5)",
        "#6",
        "Menu",
        "kembali",
    ],
)
def test_shortcuts_are_dropped(text: str) -> None:
    assert is_shortcut(text)
    assert group_candidates([candidate(1, text)], known={}) == []


@pytest.mark.parametrize("text", ["dosis 2 kapan", "vaksin 1 kali cukup?", "menu vaksin apa", "a/b"])
def test_messages_with_numbers_or_menu_words_are_kept(text: str) -> None:
    assert not is_shortcut(text)
    assert len(group_candidates([candidate(1, text)], known={})) == 1


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "???", "🙏"])
def test_empty_messages_are_dropped(text: str) -> None:
    assert group_candidates([candidate(1, text)], known={}) == []


def test_known_and_decided_messages_are_dropped() -> None:
    candidates = [
        candidate(1, "Berapa biaya vaksin?"),
        candidate(2, "vaksin bayar ga"),
        candidate(3, "vaksin halal?"),
        candidate(4, "kapan booster"),
    ]
    known = {normalize("berapa biaya vaksin"): "faq/biaya"}
    decided = {normalize("Vaksin halal")}

    groups = group_candidates(candidates, known, decided)

    assert [group.key for group in groups] == ["kapan booster", "vaksin bayar ga"]


def test_decided_texts_that_are_not_normalized_still_match() -> None:
    groups = group_candidates([candidate(1, "vaksin halal?")], known={}, decided=["  Vaksin HALAL "])
    assert groups == []


def test_real_training_and_heldout_messages_are_dropped() -> None:
    known = known_examples(ROOT / "data")
    training = "vaksin sinovac brp kali suntik sih"  # data/nlu/faq_dosis.yml
    heldout = "interval sinovac"  # data/heldout/faq_dosis.yml
    groups = group_candidates(
        [
            candidate(1, training.upper()),
            candidate(2, heldout + "?"),
            candidate(3, "vaksin sinovac brp kali"),
        ],
        known,
    )
    assert [group.text for group in groups] == ["vaksin sinovac brp kali"]


def test_a_group_collects_every_spelling_of_a_message() -> None:
    candidates = [
        candidate(1, "Vaksin bayar ga?", confidence=0.6, predicted="faq/biaya", conversation="a"),
        candidate(2, "vaksin bayar ga", confidence=0.2, predicted="faq/wajib", conversation="b"),
        candidate(3, "vaksin  bayar ga", confidence=0.4, predicted="faq/biaya", conversation="a"),
        candidate(4, "VAKSIN BAYAR GA!!", confidence=0.7, predicted="faq/biaya", conversation="c"),
        candidate(5, "vaksin bayar ga", confidence=0.9, predicted="faq/biaya", conversation="b"),
    ]

    [group] = group_candidates(reversed(candidates), known={})

    assert group == InboxGroup(
        key="vaksin bayar ga",
        text="vaksin bayar ga",  # spaces collapsed: 3 of 5 occurrences
        count=5,
        predicted="faq/wajib",  # from the lowest-confidence occurrence
        lowest_confidence=0.2,
        event_ids=(1, 2, 3, 4, 5),
        conversation_ids=("a", "b", "c"),  # in the order first seen
        last_seen=START + timedelta(minutes=5),
        sample_event_id=2,  # the lowest-confidence occurrence: its parse holds the guess
        sample_conversation_id="b",
        personal_data=False,
    )


def test_a_tie_between_spellings_goes_to_the_first_seen() -> None:
    [group] = group_candidates([candidate(2, "Halal kah?"), candidate(1, "halal kah")], known={})
    assert group.text == "halal kah"


def test_an_unparsed_occurrence_makes_the_group_unparsed() -> None:
    [group] = group_candidates(
        [candidate(1, "vaksin gratis", confidence=0.1), candidate(2, "vaksin gratis", None, predicted=None)],
        known={},
    )
    assert group.lowest_confidence is None
    assert group.predicted is None


def test_order_is_unparsed_then_lowest_confidence_then_larger_groups() -> None:
    candidates = [
        candidate(1, "alpha", confidence=0.5),
        candidate(2, "bravo", confidence=0.5),
        candidate(3, "bravo", confidence=0.5),
        candidate(4, "charlie", confidence=0.1),
        candidate(5, "delta", confidence=None, predicted=None),
        candidate(6, "echo", confidence=0.5, minutes=100),
        candidate(7, "foxtrot", confidence=0.5, minutes=100),
    ]

    groups = group_candidates(candidates, known={})

    # bravo: larger; echo/foxtrot: seen later than alpha; same time: by key
    assert [group.key for group in groups] == ["delta", "charlie", "bravo", "echo", "foxtrot", "alpha"]


def test_no_candidates_no_groups() -> None:
    assert group_candidates([], known={}) == []


def test_candidates_are_read_once() -> None:
    """A generator (e.g. rows streamed from the tracker store) is enough."""
    groups = group_candidates((candidate(i, f"pesan {i % 3}") for i in range(9)), known={})
    assert sorted(group.count for group in groups) == [3, 3, 3]


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("[NIK]", True),
        ("[TANGGAL]", True),
        ("NIK saya [NIK] lahir [TANGGAL]", True),
        ("email saya [EMAIL]", True),
        ("3174051708850001", True),  # an unmasked NIK (an older index) counts too
        ("booster kedua kapan", False),
        ("dosis 2 tgl 3-3-2022 masih bisa?", False),  # a dose date is a question, not personal data
    ],
)
def test_personal_data_replies_are_marked(text: str, personal: bool) -> None:
    [group] = group_candidates([candidate(1, text)], known={})
    assert group.personal_data is personal


# --- the guess ----------------------------------------------------------------------------------
def parse(*ranking: tuple[str, float], answers: tuple[tuple[str, float], ...] = ()) -> dict[str, object]:
    """A parse as Rasa writes it behind a fallback gate: nlu_fallback first, the overruled ranking after."""
    selector = {"faq": {"ranking": [{"intent_response_key": key, "confidence": c} for key, c in answers]}}
    return {
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": name, "confidence": c} for name, c in ranking],
        "response_selector": selector if answers else {},
    }


def did_you_mean(*topics: str) -> dict[str, object]:
    buttons = [{"title": t, "payload": f'/faq_choice{{"topic":"{t}"}}'} for t in topics]
    buttons.append({"title": "Menu lainnya", "payload": "/show_menu"})
    return {"data": {"buttons": buttons}, "metadata": {"utter_action": "utter_did_you_mean"}}


def test_the_guess_behind_a_fallback_is_the_best_overruled_label() -> None:
    faq = parse(("nlu_fallback", 0.3), ("faq", 0.28), ("greet", 0.1), answers=(("faq/efek_samping", 0.3),))
    assert best_guess(faq) == Guess("faq/efek_samping", 0.3, GuessSource.RANKING)
    intent = parse(("nlu_fallback", 0.3), ("check_schedule", 0.25), ("faq", 0.2))
    assert best_guess(intent) == Guess("check_schedule", 0.25, GuessSource.RANKING)
    # "faq" without any ranked answer is no guess: the next label is
    bare = parse(("nlu_fallback", 0.3), ("faq", 0.28), ("out_of_scope", 0.2))
    assert best_guess(bare) == Guess("out_of_scope", 0.2, GuessSource.RANKING)
    assert best_guess(parse(("nlu_fallback", 0.12))) is None
    assert best_guess({}) is None


def test_what_the_assistant_did_wins_over_the_ranking() -> None:
    faq = parse(("nlu_fallback", 0.3), ("faq", 0.28), answers=(("faq/biaya", 0.3), ("faq/wajib", 0.2)))
    offered = best_guess(faq, [did_you_mean("wajib", "biaya")])
    assert offered == Guess("faq/wajib", 0.2, GuessSource.OFFERED)  # its own confidence
    answered = best_guess(faq, [{"metadata": {"utter_action": "utter_faq/halal"}}])
    assert answered == Guess("faq/halal", None, GuessSource.ANSWERED)  # the parse did not rank it
    menu = best_guess(faq, [{"metadata": {"utter_action": "utter_uncertain_answer"}, "data": {}}])
    assert menu == Guess("faq/biaya", 0.3, GuessSource.RANKING)
    broken = {
        "data": {"buttons": [{"payload": "/faq_choice{not json"}]},
        "metadata": {"utter_action": "utter_did_you_mean"},
    }
    assert best_guess(faq, [broken]) == Guess("faq/biaya", 0.3, GuessSource.RANKING)


def test_labels_in_words() -> None:
    titles = {"efek_samping": "Efek samping ringan"}
    assert label_words("faq/efek_samping", titles) == "Efek samping ringan"
    assert label_words("faq/kipi_berat", titles) == "Kipi berat"  # a topic the menu lacks: still words
    assert label_words("human_handoff", titles) == "Minta petugas"
    assert label_words("some_new_intent", titles) == "Some new intent"
    assert label_words(None, titles) == ""
    assert (percent(0.3), percent(0.996), percent(None)) == ("30 %", "100 %", "")
