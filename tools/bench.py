"""``make bench``: how fast and how big the assistant is on this machine.

Starts the assistant as ``make run`` does (own ports), sends held-out messages
over the REST channel at concurrency 1 and 16, and reports latency p50/p95,
messages per second, each process's peak memory, and the wall time of a fresh
training run. Figures, not assertions: they depend on the machine.
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

from tools.assistant_process import ROOT, AssistantProcess, start_assistant


def heldout_texts() -> list[str]:
    texts = []
    for file in sorted((ROOT / "data" / "heldout").glob("*.yml")):
        for item in yaml.safe_load(file.read_text(encoding="utf-8"))["nlu"]:
            texts += [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
    return texts


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
                "data/rules.yml",
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
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    assistant = start_assistant(args.out / "run", rasa_port=15205, action_port=15255)
    try:
        assistant.wait_until_up()
        results["rest"] = run_load(assistant, args.messages)
        results["peak_memory_mb"] = {
            role: peak_memory_mb(pid) for role, pid in assistant.member_pids().items()
        }
    finally:
        assistant.stop()
    if not args.skip_training:
        results.update(time_training())
    (args.out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for row in results["rest"]:
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
