"""Customer understanding: model size, start-up, memory and speed (a report, not a test).

    .venv/bin/python bench/intent_bench.py [--messages 2000]

Prints the shipped model file's size, the time and memory to load the model and the rules in a
fresh process (``import replies`` + first ``classify``), and classify throughput (p50/p99
microseconds per message) of the model with the rules against the rules alone, on the labelled
written messages (tests/data/intent_*.jsonl). Target (issue 12): a light run time — no
scikit-learn or numpy imported by the bot, start-up well under a second, memory in megabytes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_STARTUP = """
import resource, sys, time, tracemalloc
tracemalloc.start()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
from replies import classify
classify("你好，我的快递到哪了")
elapsed = time.perf_counter() - start
current, peak = tracemalloc.get_traced_memory()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, current, peak, rss0, rss1, "sklearn" in sys.modules, "numpy" in sys.modules)
"""


def startup() -> tuple[float, int, int, int, int, bool, bool]:
    """Return (seconds, traced bytes, traced peak, RSS KiB before, RSS KiB after, sklearn?, numpy?)."""
    out = subprocess.run(
        [sys.executable, "-c", _STARTUP], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return (
        float(out[0]),
        int(out[1]),
        int(out[2]),
        int(out[3]),
        int(out[4]),
        out[5] == "True",
        out[6] == "True",
    )


def timings(function, texts: list[str]) -> tuple[float, float, float]:
    """Return (messages/s, p50 µs, p99 µs) of ``function`` over ``texts``."""
    each = []
    for text in texts:
        start = time.perf_counter_ns()
        function(text)
        each.append((time.perf_counter_ns() - start) / 1000)
    each.sort()
    return 1e6 * len(each) / sum(each), statistics.median(each), each[int(len(each) * 0.99) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    from replies.classifier import default_classifier
    from replies.model import DEFAULT_MODEL

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    model = default_classifier().model
    print(
        f"model file: {DEFAULT_MODEL.name} {DEFAULT_MODEL.stat().st_size / 1024:.0f} KiB, "
        f"{len(model.rows)} weighted buckets x {len(model.classes)} intents (int8)"
    )
    seconds, traced, peak, rss0, rss1, sklearn, numpy = startup()
    print(f"start-up (import replies + first classify, fresh process): {seconds * 1000:.0f} ms")
    print(
        f"memory: Python objects {traced / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB); "
        f"process RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MiB"
    )
    print(f"scikit-learn imported at run time: {sklearn}; numpy: {numpy}")
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("intent_*.jsonl")):
        texts += [
            json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    texts = (texts * (args.messages // max(len(texts), 1) + 1))[: args.messages]
    classifier = default_classifier()
    for name, function in (
        ("model + rules", classifier.classify),
        ("rules alone", classifier.router.classify),
    ):
        rate, p50, p99 = timings(function, texts)
        print(f"{name:<14} {rate:8.0f} msg/s   p50 {p50:7.0f} us   p99 {p99:7.0f} us")
    verdict = "PASS" if seconds < 1.0 and not sklearn and not numpy else "MISS"
    print(f"{verdict}: light run time (no scikit-learn/numpy, start-up < 1 s)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
