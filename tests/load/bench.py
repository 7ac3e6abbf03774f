"""``make bench``: how fast and how big the assistant is on this machine.

Starts the assistant as ``make run`` does (own ports), sends held-out messages
over the REST channel at concurrency 1 and 16, and reports latency p50/p95,
messages per second, each process's peak memory, and the wall time of a fresh
training run. Figures, not assertions: they depend on the machine.

A separate section times the action server alone (its ``/webhook``, as Rasa calls it) on
uncertain messages: ``action_uncertain_answer`` with the semantic stage, the same action on a
payload (no words, so no search: the stage's cost is the difference), and ``action_answer_faq``
(the semantic check of a confident answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.harness.assistant_process import ROOT, AssistantProcess, start_assistant
from training.heldout import read_labelled_messages


def heldout_texts() -> list[str]:
    return [message.text for message in read_labelled_messages(ROOT / "data" / "heldout")]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def load(url: str, texts: list[str], concurrency: int) -> dict[str, float]:
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for number, text in enumerate(texts):
        queue.put_nowait((number, text))
    latencies: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            number, text = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(url, json={"sender": f"bench-{number % 50}", "message": text})
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "messages": len(texts),
        "failures": failures,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "messages_per_second": len(latencies) / elapsed,
    }


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_training() -> dict[str, float]:
    """A fresh (forced) training run into a throw-away folder."""
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [
                str(ROOT / ".venvs" / "rasa" / "bin" / "rasa"),
                "train",
                "--force",
                "--config",
                "rasa_project/config.yml",
                "--domain",
                "rasa_project/domain",
                "--data",
                "data/nlu",
                "data/rules",
                "--out",
                out,
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"training_seconds": seconds, "training_peak_mb": peak}


def domain_for_actions() -> dict[str, Any]:
    """What Rasa sends the action server about the domain (the parts the actions read)."""
    merged: dict[str, Any] = {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": []}
    for file in sorted((ROOT / "rasa_project" / "domain").glob("*.yml")):
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for key in ("intents", "entities", "actions"):
            merged[key] += list(document.get(key) or [])
        for key in ("slots", "responses"):
            merged[key].update(document.get(key) or {})
    return merged


def uncertain_messages(count: int) -> list[tuple[str, dict[str, Any]]]:
    """Held-out messages Rasa gated, with their parse (``make eval``'s parses.json), else FAQ questions."""
    parses = ROOT / "reports" / "eval" / "parses.json"
    found: list[tuple[str, dict[str, Any]]] = []
    if parses.is_file():
        for entry in json.loads(parses.read_text(encoding="utf-8")):
            if (entry["parse"].get("intent") or {}).get("name") == "nlu_fallback":
                found.append((entry["text"], entry["parse"]))
    if len(found) < count:
        fallback = {"intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}
        found += [(text, fallback) for text in heldout_texts()[: count - len(found)]]
    return (found * (count // max(len(found), 1) + 1))[:count]


def action_call(action: str, sender: str, text: str, parse: dict[str, Any], domain: dict[str, Any]) -> dict:
    latest = {**parse, "text": text, "entities": parse.get("entities") or []}
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest},
    ]
    tracker = {
        "sender_id": sender,
        "slots": {},
        "latest_message": latest,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": tracker,
        "domain": domain,
        "version": "3.6.21",
    }


def time_action(url: str, bodies: list[dict[str, Any]], headers: dict[str, str]) -> dict[str, float]:
    latencies = []
    with httpx.Client(timeout=60, headers=headers) as client:
        for body in bodies[:5]:
            client.post(url, json=body).raise_for_status()  # warm-up (the search loads at start)
        for body in bodies:
            started = time.perf_counter()
            client.post(url, json=body).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return {
        "messages": len(bodies),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
    }


def fallback_action_latency(assistant: AssistantProcess, messages: int = 100) -> dict[str, dict[str, float]]:
    """The action server alone, sequentially: the fallback action with and without a search."""
    url = f"{assistant.action_url}/webhook"
    domain = domain_for_actions()
    sample = uncertain_messages(messages)
    calls = {
        "action_uncertain_answer (semantic stage)": [
            action_call("action_uncertain_answer", f"bench-fb-{i}", text, parse, domain)
            for i, (text, parse) in enumerate(sample)
        ],
        "action_uncertain_answer (payload, no search)": [
            action_call("action_uncertain_answer", f"bench-fb-{i}", "/nlu_fallback", parse, domain)
            for i, (_, parse) in enumerate(sample)
        ],
        "action_answer_faq (answer check)": [
            action_call(
                "action_answer_faq", f"bench-faq-{i}", text, {**parse, "intent": {"name": "faq"}}, domain
            )
            for i, (text, parse) in enumerate(sample)
            if parse.get("response_selector")
        ],
    }
    headers = {"Authorization": f"Bearer {assistant.action_server_token()}"}
    return {name: time_action(url, bodies, headers) for name, bodies in calls.items() if bodies}


def run_load(assistant: AssistantProcess, messages: int) -> list[dict[str, float]]:
    texts = heldout_texts()
    random.Random(7).shuffle(texts)
    sample = (texts * (messages // len(texts) + 1))[:messages]
    asyncio.run(load(assistant.rest_url, sample[:20], 4))  # warm-up
    return [asyncio.run(load(assistant.rest_url, sample, c)) for c in (1, 16)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--fallback-messages", type=int, default=100)
    parser.add_argument("--fallback-only", action="store_true", help="only the action server section")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    assistant = start_assistant(args.out / "run", rasa_port=15205, action_port=15255)
    try:
        assistant.wait_until_up()
        results["fallback_action"] = fallback_action_latency(assistant, args.fallback_messages)
        if not args.fallback_only:
            results["rest"] = run_load(assistant, args.messages)
        results["peak_memory_mb"] = {
            role: peak_memory_mb(pid) for role, pid in assistant.member_pids().items()
        }
    finally:
        assistant.stop()
    if not (args.skip_training or args.fallback_only):
        results.update(time_training())
    (args.out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for name, row in results["fallback_action"].items():
        print(
            f"action server, {name}: p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms "
            f"({row['messages']} messages)"
        )
    for row in results.get("rest", []):
        print(
            f"REST concurrency {row['concurrency']:>2}: p50 {row['p50_ms']:.0f} ms, "
            f"p95 {row['p95_ms']:.0f} ms, {row['messages_per_second']:.1f} msg/s "
            f"({row['messages']} messages, {row['failures']} failed)"
        )
    for role, megabytes in results["peak_memory_mb"].items():
        print(f"peak memory {role}: {megabytes:.0f} MB")
    if "training_seconds" in results:
        print(
            f"training: {results['training_seconds']:.0f} s wall, peak {results['training_peak_mb']:.0f} MB"
        )
    print(f"written to {args.out / 'bench.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
