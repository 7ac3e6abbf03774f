"""Responses become the WhatsApp messages the issue asks for, whole and never truncated."""

from __future__ import annotations

from typing import Any

import pytest

from rasa_project.channels.limits import (
    DEFAULT_LIST_BUTTON_LABEL,
    MAX_INTERACTIVE_BODY,
    MAX_TEXT,
    choice_problems,
    list_button_label,
)
from rasa_project.channels.messages import EMPTY_BODY, choice_messages, split_text, text_messages


def choices(count: int, title: str = "Pilihan", **extra: str) -> list[dict[str, Any]]:
    return [{"title": f"{title} {n}", "payload": f'/pilih{{"n":{n}}}', **extra} for n in range(1, count + 1)]


def paragraphs(count: int, length: int) -> str:
    return "\n\n".join(str(n % 10) * length for n in range(count))


def test_short_text_is_one_message() -> None:
    assert text_messages("Halo!") == [{"type": "text", "text": {"preview_url": False, "body": "Halo!"}}]


def test_long_text_is_split_on_paragraph_boundaries() -> None:
    text = paragraphs(5, 1500)
    parts = split_text(text)
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert len(parts) == 3
    assert "\n\n".join(parts) == text  # nothing lost, nothing cut inside a paragraph
    for part in parts:
        assert all(len(paragraph) == 1500 for paragraph in part.split("\n\n"))


def test_a_paragraph_longer_than_a_message_is_split_on_lines_then_words() -> None:
    text = "\n".join(["kata " * 300] * 4)  # one 6000-character paragraph of lines
    parts = split_text(text)
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert all(not part.startswith("ata") for part in parts)


def test_a_single_huge_word_is_cut_hard_and_kept_whole() -> None:
    parts = split_text("x" * (MAX_TEXT * 2 + 5))
    assert [len(part) for part in parts] == [MAX_TEXT, MAX_TEXT, 5]


def test_empty_text_sends_nothing() -> None:
    assert text_messages("  \n ") == []


@pytest.mark.parametrize("count", [1, 2, 3])
def test_up_to_three_choices_are_reply_buttons(count: int) -> None:
    [message] = choice_messages("Maksud Anda?", choices(count), DEFAULT_LIST_BUTTON_LABEL)
    interactive = message["interactive"]
    assert message["type"] == "interactive"
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Maksud Anda?"}
    assert interactive["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": c["payload"], "title": c["title"]}} for c in choices(count)
    ]


@pytest.mark.parametrize("count", [4, 7, 10])
def test_four_to_ten_choices_are_a_list(count: int) -> None:
    options = choices(count, description="Penjelasan singkat")
    [message] = choice_messages("Pilih topik:", options, "Topik")
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Topik"
    [section] = interactive["action"]["sections"]
    assert section["rows"] == [
        {"id": c["payload"], "title": c["title"], "description": "Penjelasan singkat"} for c in options
    ]


def test_rows_without_description_have_none() -> None:
    [message] = choice_messages("Pilih:", choices(5), DEFAULT_LIST_BUTTON_LABEL)
    assert all("description" not in row for row in message["interactive"]["action"]["sections"][0]["rows"])


def test_more_than_ten_choices_are_numbered_text() -> None:
    [message] = choice_messages("Pilih topik:", choices(12), DEFAULT_LIST_BUTTON_LABEL)
    body = message["text"]["body"]
    assert message["type"] == "text"
    assert body.startswith("Pilih topik:\n\n1. Pilihan 1\n2. Pilihan 2")
    assert "12. Pilihan 12" in body


def test_a_title_that_does_not_fit_is_never_truncated() -> None:
    too_long = [{"title": "Efek samping setelah vaksin", "payload": "/faq"}]
    [message] = choice_messages("Maksud Anda?", too_long, DEFAULT_LIST_BUTTON_LABEL)
    assert message["type"] == "text"
    assert "Efek samping setelah vaksin" in message["text"]["body"]


def test_a_body_longer_than_interactive_allows_goes_first_as_text() -> None:
    text = paragraphs(3, 700)
    messages = choice_messages(text, choices(2), DEFAULT_LIST_BUTTON_LABEL)
    assert [m["type"] for m in messages] == ["text", "interactive"]
    body = messages[-1]["interactive"]["body"]["text"]
    assert len(body) <= MAX_INTERACTIVE_BODY
    assert messages[0]["text"]["body"] + "\n\n" + body == text


def test_buttons_without_text_get_a_body() -> None:
    [message] = choice_messages("", choices(2), DEFAULT_LIST_BUTTON_LABEL)
    assert message["interactive"]["body"]["text"] == EMPTY_BODY


def test_a_choice_without_payload_sends_its_title() -> None:
    [message] = choice_messages("Benar?", [{"title": "Ya"}, {"title": "Tidak"}], DEFAULT_LIST_BUTTON_LABEL)
    assert [b["reply"]["id"] for b in message["interactive"]["action"]["buttons"]] == ["Ya", "Tidak"]


@pytest.mark.parametrize(
    ("options", "label", "expected"),
    [
        (choices(3, title="Judul yang kepanjangan"), DEFAULT_LIST_BUTTON_LABEL, "button title"),
        (choices(4, title="Dua puluh lima huruf ini"), DEFAULT_LIST_BUTTON_LABEL, "list row title"),
        (choices(4, description="d" * 73), DEFAULT_LIST_BUTTON_LABEL, "list row description"),
        (choices(4), "Label yang terlalu panjang", "list button label"),
        ([{"title": "Ya", "payload": "x" * 257}], DEFAULT_LIST_BUTTON_LABEL, "button payload"),
        ([{"title": "Ya", "payload": "/a"}, {"title": "Ya", "payload": "/b"}], "", "appears more than once"),
        ([{"title": "", "payload": "/a"}], "", "has no title"),
    ],
)
def test_choice_problems_name_what_breaks_a_limit(
    options: list[dict[str, Any]], label: str, expected: str
) -> None:
    assert any(expected in problem for problem in choice_problems(options, label))


def test_limits_are_inclusive() -> None:
    assert choice_problems([{"title": "t" * 20, "payload": "p" * 256}]) == []
    rows = [{"title": f"{n}" + "t" * 23, "payload": f"{n}", "description": "d" * 72} for n in range(4)]
    assert choice_problems(rows, "l" * 20) == []


def test_list_label_comes_from_the_response_metadata() -> None:
    assert list_button_label({"whatsapp_list_button": "Pilih topik"}) == "Pilih topik"
    assert list_button_label(None) == DEFAULT_LIST_BUTTON_LABEL
    assert list_button_label({"topic": "biaya"}) == DEFAULT_LIST_BUTTON_LABEL
