"""The rules every channel applies before Rasa sees a request: bounded, parsed safely, cleaned."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from rasa_project.channels.inbound import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_SENDER_CHARACTERS,
    MAX_TEXT_CHARACTERS,
    NOT_JSON,
    SENDER_INVALID,
    TOO_DEEP,
    TOO_LONG_NOTICE,
    BodyTooLarge,
    InvalidInput,
    clean_text,
    clean_value,
    inbound_text,
    json_depth_exceeds,
    parse_json,
    read_bounded_body,
    valid_sender,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_100000_deep_is_refused_without_recursion() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_json(nested(100_000).encode())
    assert (refused.value.status, refused.value.reason) == (400, TOO_DEEP)
    with pytest.raises(InvalidInput, match=TOO_DEEP):
        parse_json(('{"a":' * 100_000 + "1" + "}" * 100_000).encode())


def test_json_up_to_the_depth_limit_is_read() -> None:
    assert parse_json(nested(MAX_JSON_DEPTH).encode()) is not None
    with pytest.raises(InvalidInput, match=TOO_DEEP):
        parse_json(nested(MAX_JSON_DEPTH + 1).encode())


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    document = json.dumps({"message": "[[[[" * 1000 + '\\"{{{{' * 1000})
    assert not json_depth_exceeds(document)
    assert parse_json(document.encode())["message"].startswith("[[[[")


def test_an_unterminated_string_full_of_escaped_quotes_is_scanned_once() -> None:
    """A quadratic scan would not finish on this in the lifetime of the test run."""
    body = ('"' + '\\"' * (MAX_BODY_BYTES // 2)).encode()
    with pytest.raises(InvalidInput, match=NOT_JSON):
        parse_json(body)


@pytest.mark.parametrize("body", [b"\xff\xfe", b"{not json", b'{"a": 1', b""])
def test_what_is_not_utf8_json_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match=NOT_JSON):
        parse_json(body)


def test_text_loses_lone_surrogates_and_control_characters_but_keeps_lines_and_tabs() -> None:
    assert clean_text("ha\ud800lo\udfff") == "halo"
    assert clean_text("vak\x00sin\x1b[31m\x7f\x85 bayar?") == "vaksin[31m bayar?"
    assert clean_text("satu\r\ndua\rtiga\n\tempat") == "satu\ndua\ntiga\n\tempat"
    assert clean_text("👍🏽 terima kasih") == "👍🏽 terima kasih"  # a valid pair is kept


def test_text_is_put_in_nfc() -> None:
    assert clean_text("kafe\u0301") == "kaf\u00e9"


def test_text_up_to_whatsapps_limit_is_read_and_longer_is_flagged() -> None:
    assert inbound_text("a" * MAX_TEXT_CHARACTERS).too_long is False
    assert inbound_text("a" * (MAX_TEXT_CHARACTERS + 1)).too_long is True
    # Characters removed by cleaning do not count against the limit.
    assert inbound_text("a" * MAX_TEXT_CHARACTERS + "\x00" * 100).too_long is False


def test_the_length_notice_is_polite_indonesian_and_names_the_limit() -> None:
    assert TOO_LONG_NOTICE.startswith("Maaf, pesan Anda terlalu panjang")
    assert "4.096 karakter" in TOO_LONG_NOTICE


@pytest.mark.parametrize(
    "sender",
    [
        "\ud800",
        "ab\udc00",
        "",
        "   ",
        "a\x00b",
        "a\nb",
        "a\u202eb",
        "x" * (MAX_SENDER_CHARACTERS + 1),
        None,
        True,
        1.5,
        ["a"],
    ],
)
def test_malformed_sender_ids_are_refused(sender: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        valid_sender(sender)
    assert (refused.value.status, refused.value.reason) == (400, SENDER_INVALID)


def test_well_formed_sender_ids_are_kept_in_nfc() -> None:
    assert valid_sender("it-biaya") == "it-biaya"
    assert valid_sender("x" * MAX_SENDER_CHARACTERS) == "x" * MAX_SENDER_CHARACTERS
    assert valid_sender(6281234567890) == "6281234567890"
    assert valid_sender("Rene\u0301 👍") == "Ren\u00e9 👍"


def test_metadata_strings_are_cleaned_wherever_they_sit() -> None:
    assert clean_value({"a\ud800": ["x\x00y", {"z": "\udfff"}], "n": 1}) == {"a": ["xy", {"z": ""}], "n": 1}


async def chunks(*parts: bytes) -> AsyncIterator[bytes | None]:
    for part in parts:
        yield part
    yield None


async def test_a_body_declared_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(BodyTooLarge) as refused:
        await read_bounded_body(chunks(b"x"), str(MAX_BODY_BYTES + 1))
    assert refused.value.status == 413


async def test_a_body_that_grows_too_large_is_refused_whatever_it_declared() -> None:
    part = b"x" * (MAX_BODY_BYTES // 4)
    with pytest.raises(BodyTooLarge):
        await read_bounded_body(chunks(*[part] * 5), None)
    assert await read_bounded_body(chunks(*[part] * 4), "12") == part * 4
