"""The load test's own arithmetic and checks, on made-up data: no servers, a few seconds.

A load test that cannot see a lost or reordered event, or that miscounts a percentile, would report
a stack as healthy when it is not; these tests make it show what it should.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter

import httpx
import pytest

from rasa_project.channels.inbound import FAILURE_NOTICE
from services.registry.demo import demo_niks
from tests.load import event_order
from tests.load.event_order import EventRow, Expected
from tests.load.scale import (
    BASELINE,
    ConfigResult,
    LevelRun,
    done_when,
    level_summary,
    markdown,
    percentile,
    run_level,
)
from tests.load.workload import (
    MIX,
    Conversation,
    Outcome,
    Played,
    ReplyClock,
    RestPlayer,
    Turn,
    Workload,
    handoff_marker,
    require_loopback,
)

# --- percentiles -----------------------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]  # 1 .. 100, in any order
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([0.2, 0.1, 9.0], 0.95) == 9.0  # the slow one is not averaged away
    assert percentile([0.3], 0.99) == 0.3
    assert percentile([], 0.5) is None


# --- the event check -------------------------------------------------------------------------------


def _rows(sender: str, *kinds_and_texts: str) -> list[EventRow]:
    """``"u:text"`` a user event, ``"b"`` a bot event."""
    rows = []
    for item in kinds_and_texts:
        if item.startswith("u:"):
            rows.append(EventRow(sender, "user", item[2:]))
        else:
            rows.append(EventRow(sender, "bot"))
    return rows


SENT = Expected("s1", ("halo", "vaksin bayar ga?", "menu"), (True, True, True))


def test_a_complete_conversation_in_order_is_clean() -> None:
    rows = [
        EventRow("s1", "action"),
        *_rows("s1", "u:halo", "b", "u:vaksin bayar ga?", "b", "b", "u:menu", "b"),
    ]
    report = event_order.check([SENT], rows)
    assert report.clean
    assert (report.conversations, report.messages) == (1, 3)


def test_a_lost_message_is_reported() -> None:
    report = event_order.check([SENT], _rows("s1", "u:halo", "b", "u:menu", "b"))
    assert report.lost == 1 and report.reordered == 0 and not report.clean
    assert report.examples == ["s1: lost 1, duplicated 0, reordered 0, unanswered 0, unexpected 0"]


def test_reordered_messages_are_reported() -> None:
    rows = _rows("s1", "u:vaksin bayar ga?", "b", "u:halo", "b", "u:menu", "b")
    report = event_order.check([SENT], rows)
    assert report.reordered == 1 and report.lost == 0 and not report.clean


def test_a_message_handled_twice_is_reported() -> None:
    rows = _rows("s1", "u:halo", "b", "u:halo", "b", "u:vaksin bayar ga?", "b", "u:menu", "b")
    report = event_order.check([SENT], rows)
    assert report.duplicated == 1 and report.reordered == 0 and report.lost == 0


def test_a_message_without_a_bot_event_before_the_next_is_unanswered() -> None:
    rows = _rows("s1", "u:halo", "u:vaksin bayar ga?", "b", "u:menu", "b")
    assert event_order.check([SENT], rows).unanswered == 1
    rows = _rows("s1", "u:halo", "b", "u:vaksin bayar ga?", "b", "u:menu")
    assert event_order.check([SENT], rows).unanswered == 1


def test_a_message_nobody_sent_is_unexpected_and_other_senders_are_ignored() -> None:
    rows = _rows("s1", "u:halo", "b", "u:vaksin bayar ga?", "b", "u:menu", "b", "u:apa ini", "b")
    rows += _rows("someone-else", "u:menu")
    report = event_order.check([SENT], rows)
    assert report.unexpected == 1 and report.unanswered == 0


def test_personal_data_is_compared_as_the_store_keeps_it() -> None:
    sent = Expected("s2", ("cek jadwal vaksin", "3174 0517 0885 9001", "17 agustus 1985"), (True, True, True))
    stored = _rows("s2", "u:cek jadwal vaksin", "b", "u:[NIK]", "b", "u:[TANGGAL]", "b")
    assert event_order.check([sent], stored).clean
    swapped = _rows("s2", "u:cek jadwal vaksin", "b", "u:[TANGGAL]", "b", "u:[NIK]", "b")
    assert event_order.check([sent], swapped).reordered == 1


def test_a_failed_message_may_be_missing_or_unanswered_but_not_doubled() -> None:
    sent = Expected("s3", ("halo", "menu"), (True, False))
    assert event_order.check([sent], _rows("s3", "u:halo", "b")).clean
    assert event_order.check([sent], _rows("s3", "u:halo", "b", "u:menu")).clean
    assert event_order.check([sent], _rows("s3", "u:halo", "b", "u:menu", "b", "u:menu", "b")).duplicated == 1


def test_events_are_read_from_the_tracker_database_in_insertion_order(tmp_path) -> None:
    from sqlalchemy import create_engine, text

    url = event_order.sqlite_url(tmp_path / "tracker.db")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                "timestamp REAL, data TEXT)"
            )
        )
        rows = [
            (1, "s1", "action", 5.0, '{"name": "action_listen"}'),
            (2, "s1", "user", 1.0, '{"text": "menu"}'),  # timestamps do not decide the order
            (3, "s1", "bot", 9.0, '{"text": "Menu utama"}'),
        ]
        for row in rows:
            connection.execute(
                text("INSERT INTO events VALUES (:id, :sender, :kind, :at, :data)"),
                dict(zip(("id", "sender", "kind", "at", "data"), row)),
            )
    engine.dispose()
    assert event_order.read_events(url) == [EventRow("s1", "user", "menu"), EventRow("s1", "bot")]
    assert event_order.event_count(url) == 3


# --- the workload ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workload() -> Workload:
    return Workload(seed=3)


def test_the_workload_mixes_every_kind_reproducibly(workload: Workload) -> None:
    first = list(itertools.islice(workload.conversations("t"), 400))
    again = list(itertools.islice(workload.conversations("t"), 400))
    assert first == again
    kinds = Counter(conversation.kind for conversation in first)
    assert set(kinds) == set(MIX)
    assert kinds["faq"] > kinds["schedule"] > 0
    assert len({conversation.key for conversation in first}) == len(first)
    channels = {conversation.kind: conversation.channel for conversation in first}
    assert channels == {"faq": "rest", "menu": "rest", "schedule": "rest", "whatsapp": "whatsapp"}
    assert all(c.key.isdigit() for c in first if c.channel == "whatsapp")


def test_faq_questions_are_not_all_exact_repeats(workload: Workload) -> None:
    texts = [
        turn.text
        for conversation in itertools.islice(workload.conversations("v"), 600)
        if conversation.kind == "faq"
        for turn in conversation.turns
    ]
    heldout = set(workload.questions) | set(workload.chatter)
    verbatim = sum(text in heldout for text in texts)
    assert 0.25 * len(texts) < verbatim < 0.8 * len(texts)


def test_a_schedule_conversation_looks_up_a_demo_recipient(workload: Workload) -> None:
    lookups = [c for c in itertools.islice(workload.conversations("s"), 200) if c.kind == "schedule"]
    assert lookups
    for conversation in lookups:
        ask, nik, birth_date = conversation.turns
        assert ask.expect == workload.ask_nik and nik.expect == workload.ask_birth_date
        digits = "".join(character for character in nik.text if character.isdigit())
        assert digits in demo_niks()
        person = next(p for p in workload.recipients if p.nik == digits)
        assert birth_date.expect == person.masked_name and "•" in person.masked_name


def test_only_loopback_is_a_target() -> None:
    assert require_loopback("http://127.0.0.1:16105/webhooks/rest/webhook")
    for url in (
        "http://10.0.0.5:5005/webhooks/rest/webhook",
        "http://localhost:5005/",
        "https://example.org/",
    ):
        with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
            require_loopback(url)


# --- levels and the verdict ------------------------------------------------------------------------


def _outcome(sent: float, seconds: float | None, error: str | None = None) -> Outcome:
    finished = sent + seconds if seconds is not None else 0.0
    return Outcome("faq", "rest", "x", seconds=seconds, error=error, started=sent, finished=finished)


def test_a_level_counts_errors_and_measures_its_full_window() -> None:
    conversation = Conversation("c", "faq", "rest", (Turn("x"),))
    played = [
        Played(conversation, "a", [_outcome(0.0, 0.1), _outcome(0.1, 0.2)]),
        Played(conversation, "b", [_outcome(0.0, 0.3), _outcome(0.3, None, "timeout")]),
        Played(conversation, "c", [_outcome(0.0, 0.9), _outcome(1.2, 0.05)]),  # sent while draining
        Played(conversation, "d", [Outcome("faq", "rest", "x", started=1.3)]),  # cut off by the time limit
    ]
    # Four conversations in flight until 1.0 s, then fewer; the time limit struck at 2.0 s.
    summary = level_summary(
        "one", 4, LevelRun(played, started=0.0, full_until=1.0, ended=2.0, timed_out=True)
    )
    assert summary["messages"] == 7 and summary["answered"] == 5
    assert summary["errors"] == 2
    assert summary["error_kinds"] == {"timeout": 1, "cut off by the time limit": 1}
    assert summary["messages_per_second"] == 4.0  # 4 replies within the full window of 1 s
    assert summary["messages_per_second_overall"] == 2.5
    # The fast answer sent while draining is not among the latencies.
    assert (summary["p50_ms"], summary["p95_ms"]) == (200.0, 900.0)
    assert summary["full_window_messages"] == 4


def test_a_level_stops_at_its_message_budget_and_at_its_time_limit() -> None:
    stream = (Conversation(f"k{n}", "faq", "rest", (Turn("a"), Turn("b"))) for n in itertools.count())

    async def quick(conversation: Conversation, record: Played) -> None:
        for turn in conversation.turns:
            outcome = Outcome("faq", "rest", turn.text, started=time.perf_counter())
            record.outcomes.append(outcome)
            await asyncio.sleep(0.001)
            outcome.error, outcome.seconds, outcome.finished = None, 0.001, time.perf_counter()

    run = asyncio.run(run_level(quick, lambda c: c.key, stream, 3, 10, 5.0))
    sent = sum(len(record.outcomes) for record in run.played)
    assert 10 <= sent <= 10 + 2 * 3 and not run.timed_out
    assert run.started < run.full_until <= run.ended

    async def stuck(conversation: Conversation, record: Played) -> None:
        record.outcomes.append(Outcome("faq", "rest", "a"))
        await asyncio.sleep(60)

    started = time.monotonic()
    run = asyncio.run(run_level(stuck, lambda c: c.key, stream, 2, 100, 0.2))
    assert run.timed_out and time.monotonic() - started < 5
    assert level_summary("one", 2, run)["errors"] == 2


def _level(concurrency: int, rate: float, p95: float, errors: int = 0) -> dict:
    return {
        "config": "x",
        "concurrency": concurrency,
        "messages": 100,
        "errors": errors,
        "unexpected": 0,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95,
        "messages_per_second": rate,
        "timed_out": False,
    }


CLEAN_EVENTS: dict[str, object] = {"conversations": 1, "messages": 1, "lost": 0, "duplicated": 0}
CLEAN_EVENTS |= {"reordered": 0, "unanswered": 0, "unexpected": 0, "examples": []}


def test_done_when_holds_only_when_every_part_holds() -> None:
    baseline = ConfigResult(BASELINE, [_level(4, 30, 100), _level(16, 30, 600), _level(64, 30, 2000)])
    good = ConfigResult("two", [_level(4, 38, 150), _level(16, 40, 450), _level(64, 39, 1900)], CLEAN_EVENTS)
    assert all(met for _, met in done_when(good, baseline))
    slow = ConfigResult("one", [_level(4, 38, 150), _level(16, 35, 450), _level(64, 30, 1900)], CLEAN_EVENTS)
    failed = [text for text, met in done_when(slow, baseline) if met is False]
    assert failed == ["c16: 1.17x the baseline's msg/s (>= 1.2)", "c64 30 msg/s >= c4 38 msg/s"]
    lossy = ConfigResult("two", good.levels, {**CLEAN_EVENTS, "lost": 1})
    assert [text for text, met in done_when(lossy, baseline) if met is False] == [
        "events: 1 lost, 0 reordered, 0 duplicated, 0 unanswered (all 0)"
    ]
    failed_to_start = ConfigResult("two", notes=["FAILED: RuntimeError: the assistant exited early"])
    assert done_when(failed_to_start, baseline) == [("nothing measured (see the notes)", False)]
    report = markdown(
        [baseline, slow], {"started": "t", "cores": 2, "load_before": "0", "commit": "c", "messages": 1}
    )
    assert "| one | 16 | 100 | 0 | 0 | 225.0 | 450 | 450 | 35 | 1.17 |" in report
    assert "- one: c16: 1.17x the baseline's msg/s (>= 1.2): **NOT met**" in report


# --- playing a REST conversation ------------------------------------------------------------------


def _rest_run(answers: list[httpx.Response], turns: tuple[Turn, ...]) -> tuple[Played, list[str]]:
    """Plays one conversation against a stand-in Rasa server that gives ``answers`` in turn."""
    asked: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content)["message"])
        return answers[len(asked) - 1]

    async def scenario() -> Played:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
            conversation = Conversation("s", "schedule", "rest", turns)
            played = Played(conversation, "s")
            await RestPlayer(client, "http://127.0.0.1:16105/webhooks/rest/webhook").play(
                conversation, played
            )
            return played

    return asyncio.run(scenario()), asked


def _says(*texts: str) -> httpx.Response:
    return httpx.Response(200, json=[{"recipient_id": "s", "text": text} for text in texts])


def test_a_rest_conversation_stops_at_the_first_error() -> None:
    turns = (Turn("halo"), Turn("menu"), Turn("1"))
    played, asked = _rest_run([_says("Halo!"), httpx.Response(500, json={}), _says("x")], turns)
    assert asked == ["halo", "menu"]
    assert [(o.text, o.error) for o in played.outcomes] == [("halo", None), ("menu", "HTTP 500")]
    played, _ = _rest_run([httpx.Response(200, json=[])], turns)
    assert played.outcomes[0].error == "no reply"
    played, _ = _rest_run([_says(FAILURE_NOTICE)], turns)
    assert played.outcomes[0].error == "failure notice"


def test_a_reply_without_what_the_conversation_expects_is_counted(workload: Workload) -> None:
    turns = (Turn("cek jadwal vaksin", workload.ask_nik), Turn("3174051708859001", workload.ask_birth_date))
    played, _ = _rest_run(
        [_says(workload.ask_nik), _says("Maaf, layanan jadwal sedang tidak tersedia.")], turns
    )
    assert [(o.error, o.unexpected) for o in played.outcomes] == [(None, False), (None, True)]
    assert all(o.seconds is not None and o.seconds >= 0 for o in played.outcomes)


def test_a_handoff_ends_the_conversation_as_the_person_then_waits() -> None:
    turns = (Turn("mau bicara dengan petugas"), Turn("halo?"))
    played, asked = _rest_run([_says(handoff_marker() + ". Selama menunggu, bot tidak menjawab.")], turns)
    assert asked == ["mau bicara dengan petugas"] and played.outcomes[0].answered


# --- the WhatsApp reply clock ----------------------------------------------------------------------


def test_the_reply_clock_wakes_whoever_waits_for_a_phone() -> None:
    clock = ReplyClock()

    async def scenario() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: loop.run_in_executor(None, clock.record, "628", "Halo"))
        arrived = await clock.wait_beyond("628", 0, 5.0)
        nothing_more = await clock.wait_beyond("628", 1, 0.05)
        return arrived, nothing_more

    assert asyncio.run(scenario()) == (True, False)
    assert [text for _, text in clock.arrivals("628")] == ["Halo"]
