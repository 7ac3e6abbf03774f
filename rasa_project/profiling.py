"""``make profile``: where the Rasa server's CPU goes for one message, component by component.

Loads the live model in this process (as ``rasa run`` does), parses held-out messages once to warm
up, then parses them again under cProfile and reports, per pipeline component, the milliseconds of
its ``process`` per message, and the rest of ``parse_message`` (graph bookkeeping, message
objects). Then whole turns (``handle_text``: NLU, policies, the tracker in memory; custom actions
are not called) for what follows the parse. The README's "Speed and scale" profile comes from here.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import time
from collections import defaultdict
from pathlib import Path

from core.threads import use_one_thread_each

ROOT = Path(__file__).resolve().parents[1]


def component_times(stats: pstats.Stats, messages: int) -> dict[str, float]:
    """Cumulative ms per message of each component's ``process`` (keyed by its module's file name)."""
    totals: dict[str, float] = defaultdict(float)
    for (file_name, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == "process" and ("/rasa/nlu/" in file_name or "/rasa_project/components/" in file_name):
            totals[Path(file_name).stem] += row[3]
    return {
        name: seconds * 1000 / messages for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1])
    }


async def profile(model: str, texts: list[str], turns: int) -> str:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from rasa_project import model_loading

    # As `rasa run` logs by default: its debug lines would be most of what is measured.
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)

    model_loading.install()  # as the Rasa server loads it (the live NLG installs it there)
    agent = Agent.load(model)
    for text in texts[:20]:
        await agent.parse_message(text)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    cpu_started = time.process_time()
    profiler.enable()
    for text in texts:
        await agent.parse_message(text)
    profiler.disable()
    wall = (time.perf_counter() - started) * 1000 / len(texts)
    cpu = (time.process_time() - cpu_started) * 1000 / len(texts)
    stats = pstats.Stats(profiler)
    lines = [
        f"parse_message: {wall:.1f} ms wall, {cpu:.1f} ms CPU per message ({len(texts)} held-out messages; "
        "under cProfile, which adds its own overhead)",
        "",
        "| component (process) | ms per message |",
        "|---|---|",
    ]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in component_times(stats, len(texts)).items()]
    started = time.perf_counter()
    cpu_started = time.process_time()
    for number, text in enumerate(texts[:turns]):
        await agent.handle_text(text, sender_id=f"profile-{number % 20}")
    turn_wall = (time.perf_counter() - started) * 1000 / turns
    turn_cpu = (time.process_time() - cpu_started) * 1000 / turns
    lines += [
        "",
        f"whole turn (handle_text, no profiler): {turn_wall:.1f} ms wall, {turn_cpu:.1f} ms CPU per message",
    ]
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(15)
    return "\n".join(lines) + "\n\nTop functions by own time:\n" + buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    use_one_thread_each()  # as the supervisor starts Rasa
    from training.heldout import read_labelled_messages

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "live.tar.gz"))
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--turns", type=int, default=100)
    options = parser.parse_args(argv)
    texts = [message.text for message in read_labelled_messages(ROOT / "data" / "heldout")][
        : options.messages
    ]
    print(asyncio.run(profile(options.model, texts, min(options.turns, len(texts)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
