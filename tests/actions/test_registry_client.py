"""The registry client over real sockets: the real registry app, and a scripted server for failures."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from actions.registry_client import (
    CodeEnded,
    CodeSent,
    Locked,
    NoMatch,
    RegistryClient,
    RegistryRefused,
    RegistryUnavailable,
    Schedule,
    WrongCode,
    tls_context,
)
from services.registry.demo import (
    DEMO_PERSON,
    DEMO_PERSON_NEXT_APPOINTMENT_DAYS,
    DEMO_WOMAN,
    FULLY_VACCINATED_PERSON,
)
from tests.actions.servers import SERVICE_TOKEN, Reply, closed_port_url, registry_app, scripted_server

FOUND_BODY = {
    "name_masked": "B••• S•••••o",
    "doses": [
        {"dose_number": 2, "vaccine_brand": "Sinovac", "date": "2021-04-05", "facility": "PKM", "batch": "B"},
        {"dose_number": 1, "vaccine_brand": "Sinovac", "date": "2021-03-08", "facility": "PKM", "batch": "A"},
    ],
    "next_appointment": None,
}
BACKOFF = 0.05


def client(
    url: str, *, token: str = SERVICE_TOKEN, retries: int = 2, read_timeout: float = 5.0
) -> RegistryClient:
    return RegistryClient(
        url, token, connect_timeout=1.0, read_timeout=read_timeout, retries=retries, backoff_seconds=BACKOFF
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, seeded_on: date) -> Iterator[str]:
    database: Path = tmp_path_factory.mktemp("registry") / "registry.db"
    with registry_app(database, seeded_on, lockout_max_failures=2) as url:
        yield url


# --- the real registry: answers become typed results ----------------------------------------


async def test_a_match_gives_doses_and_the_next_appointment(registry: str, seeded_on: date) -> None:
    result = await client(registry).lookup(DEMO_PERSON.nik, DEMO_PERSON.birth_date, "client-found", "rest")
    assert isinstance(result, Schedule)
    assert result.name_masked.startswith("B") and "Budi" not in result.name_masked
    assert [(dose.number, dose.vaccine_brand) for dose in result.doses] == [(1, "Sinovac"), (2, "Sinovac")]
    assert result.next_appointment is not None
    assert result.next_appointment.dose_number == 3
    assert result.next_appointment.on == seeded_on + timedelta(days=DEMO_PERSON_NEXT_APPOINTMENT_DAYS)
    assert result.next_appointment.facility_name == "Puskesmas Kecamatan Kebayoran Lama"


async def test_nobody_booked_has_no_next_appointment(registry: str) -> None:
    person = FULLY_VACCINATED_PERSON
    result = await client(registry).lookup(person.nik, person.birth_date, "client-agus", "rest")
    assert isinstance(result, Schedule)
    assert len(result.doses) == 4
    assert result.next_appointment is None


async def test_wrong_birth_date_and_unknown_nik_are_the_same_no_match(registry: str) -> None:
    wrong = await client(registry).lookup(DEMO_PERSON.nik, date(1985, 8, 18), "client-wrong", "rest")
    unknown = await client(registry).lookup("3174051708859999", date(1985, 8, 17), "client-unknown", "rest")
    assert wrong == unknown == NoMatch(whatsapp_only=True)  # over REST: the same for everyone


async def test_a_locked_nik_comes_back_with_the_registrys_message(registry: str) -> None:
    """The module's registry locks after 2 failures; then even the right birth date is refused."""
    person = DEMO_WOMAN
    for attempt in range(2):
        assert await client(registry).lookup(
            person.nik, date(1990, 3, 13), f"client-lock-{attempt}", "rest"
        ) == NoMatch(whatsapp_only=True)
    result = await client(registry).lookup(person.nik, person.birth_date, "client-lock-right", "rest")
    assert isinstance(result, Locked)
    assert "dikunci" in result.message and result.retry_after_seconds and result.retry_after_seconds > 0


async def test_a_wrong_token_is_refused_not_retried(registry: str) -> None:
    with pytest.raises(RegistryRefused, match="401"):
        await client(registry, token="not-the-token").lookup(
            DEMO_PERSON.nik, DEMO_PERSON.birth_date, "c", "rest"
        )


# --- the scripted server: what is retried and what is not ------------------------------------


async def test_what_is_sent_identity_in_the_body_and_the_token_as_bearer() -> None:
    with scripted_server([Reply(200, FOUND_BODY)]) as server:
        result = await client(server.url).lookup("3174051708859001", date(1985, 8, 17), "conv-1", "rest")
    assert server.requests == [
        {
            "path": "/v1/lookup",
            "authorization": f"Bearer {SERVICE_TOKEN}",
            "body": {
                "nik": "3174051708859001",
                "birth_date": "1985-08-17",
                "conversation_id": "conv-1",
                "channel": "rest",
            },
        }
    ]
    assert isinstance(result, Schedule)
    assert [dose.number for dose in result.doses] == [1, 2]  # sorted, whatever order they came in


async def test_5xx_is_retried_with_backoff_until_it_works() -> None:
    replies = [Reply(503), Reply(500), Reply(200, FOUND_BODY)]
    with scripted_server(replies) as server:
        started = time.monotonic()
        result = await client(server.url, retries=2).lookup(
            "3174051708859001", date(1985, 8, 17), "c", "rest"
        )
        elapsed = time.monotonic() - started
    assert isinstance(result, Schedule)
    assert len(server.requests) == 3
    assert elapsed >= BACKOFF + 2 * BACKOFF  # 0.05 s, then 0.10 s


async def test_5xx_every_time_gives_up_after_the_retries() -> None:
    with scripted_server([Reply(502)]) as server, pytest.raises(RegistryUnavailable, match="3 attempts"):
        await client(server.url, retries=2).lookup("3174051708859001", date(1985, 8, 17), "c", "rest")
    assert len(server.requests) == 3


async def test_a_code_that_could_not_be_sent_is_not_retried() -> None:
    """Each retry would send the person another code: one try, then the apology."""
    unavailable = Reply(503, {"error": "code_unavailable", "message": "Kode tidak dapat dikirim."})
    with (
        scripted_server([unavailable, Reply(200, FOUND_BODY)]) as server,
        pytest.raises(RegistryUnavailable, match="code_unavailable"),
    ):
        await client(server.url, retries=2).lookup("3174051708859001", date(1985, 8, 17), "c", "whatsapp")
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(404, {"error": "not_found", "message": "Data tidak ditemukan."}), NoMatch()),
        (
            Reply(429, {"error": "locked", "message": "Dikunci.", "retry_after_seconds": 60}),
            Locked("Dikunci.", 60),
        ),
    ],
)
async def test_404_and_429_are_answers_asked_once(reply: Reply, expected: object) -> None:
    with scripted_server([reply, Reply(200, FOUND_BODY)]) as server:
        result = await client(server.url).lookup("3174051708859001", date(1985, 8, 17), "c", "rest")
    assert result == expected
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 422])
async def test_other_4xx_is_never_retried(status: int) -> None:
    replies = [Reply(status, {"error": "x", "message": "x"}), Reply(200, FOUND_BODY)]
    with scripted_server(replies) as server, pytest.raises(RegistryRefused, match=str(status)):
        await client(server.url).lookup("3174051708859001", date(1985, 8, 17), "c", "rest")
    assert len(server.requests) == 1


async def test_an_unreadable_answer_is_refused() -> None:
    with (
        scripted_server([Reply(200, {"unexpected": True})]) as server,
        pytest.raises(RegistryRefused, match="cannot read"),
    ):
        await client(server.url).lookup("3174051708859001", date(1985, 8, 17), "c", "rest")


async def test_a_refused_connection_is_retried_until_the_registry_listens() -> None:
    with scripted_server([Reply(200, FOUND_BODY)], listen_after_seconds=0.1) as server:
        result = await client(server.url, retries=4).lookup(
            "3174051708859001", date(1985, 8, 17), "c", "rest"
        )
    assert isinstance(result, Schedule)  # attempts at 0, 0.05, 0.15 s: the third one connects
    assert len(server.requests) == 1


async def test_a_registry_that_is_down_gives_up_after_the_retries() -> None:
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match=r"3 attempts.*ConnectError"):
        await client(closed_port_url(), retries=2).lookup("3174051708859001", date(1985, 8, 17), "c", "rest")
    assert time.monotonic() - started >= 3 * BACKOFF


async def test_a_slow_registry_times_out_once_and_is_not_asked_again() -> None:
    """A read timeout may have counted as a failed check: retrying could lock the person out."""
    with scripted_server([Reply(200, FOUND_BODY, delay_seconds=1.0)]) as server:
        started = time.monotonic()
        with pytest.raises(RegistryUnavailable, match="too slow"):
            await client(server.url, read_timeout=0.2).lookup(
                "3174051708859001", date(1985, 8, 17), "c", "rest"
            )
        elapsed = time.monotonic() - started
        assert len(server.requests) == 1
    assert elapsed < 1.0


async def test_a_code_sent_and_the_code_checked(registry: str) -> None:
    """Over a scripted registry: 202 then 400, 410 and 200 become typed results."""
    sent = {"status": "code_sent", "message": "Kode dikirim.", "challenge_id": "c" * 43, "phone_masked": "x",
            "expires_in_seconds": 300}  # fmt: skip
    with scripted_server([Reply(202, sent)]) as server:
        result = await client(server.url).lookup(DEMO_PERSON.nik, DEMO_PERSON.birth_date, "wa_x", "whatsapp")
    assert result == CodeSent("c" * 43, "Kode dikirim.")
    assert server.requests[0]["body"]["channel"] == "whatsapp"
    replies = [
        Reply(
            400,
            {
                "error": "wrong_code",
                "message": "Kode verifikasi salah. Sisa percobaan: 4.",
                "attempts_left": 4,
            },
        ),
        Reply(410, {"error": "code_ended", "message": "Mulai lagi.", "too_many_attempts": True}),
        Reply(200, FOUND_BODY),
    ]
    with scripted_server(replies) as server:
        wrong = await client(server.url).check_code("c" * 43, "123456", "wa_x")
        ended = await client(server.url).check_code("c" * 43, "123456", "wa_x")
        found = await client(server.url).check_code("c" * 43, "123456", "wa_x")
    assert wrong == WrongCode("Kode verifikasi salah. Sisa percobaan: 4.", 4)
    assert ended == CodeEnded("Mulai lagi.")
    assert isinstance(found, Schedule)
    assert [request["path"] for request in server.requests] == ["/v1/lookup/code"] * 3
    assert server.requests[0]["body"] == {
        "challenge_id": "c" * 43,
        "code": "123456",
        "conversation_id": "wa_x",
    }


async def test_a_code_check_the_registry_answers_oddly_is_refused() -> None:
    with scripted_server([Reply(400, {"error": "invalid"})]) as server, pytest.raises(RegistryRefused):
        await client(server.url).check_code("c" * 43, "123456", "wa_x")


def test_the_one_tls_context_still_verifies_certificates_and_host_names() -> None:
    """Built once per process instead of once per lookup; the verification is the default one."""
    context = tls_context()
    assert context is tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] == ssl.create_default_context().cert_store_stats()["x509_ca"]
