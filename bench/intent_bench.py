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
import resource, sys, time
start = time.perf_counter()
import replies
imported = time.perf_counter()
rss_imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from replies.model import default_model
default_model()
loaded = time.perf_counter()
rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from replies import classify
classify("你好，我的快递到哪了")
first = time.perf_counter()
rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(imported - start, loaded - imported, first - loaded, rss_imported, rss_model, rss_first,
      "sklearn" in sys.modules, "numpy" in sys.modules)
"""
_MODEL_MEMORY = """
import tracemalloc
from replies.model import load_model
tracemalloc.start()
model = load_model()
current, peak = tracemalloc.get_traced_memory()
print(current, peak)
"""


def startup() -> list[str]:
    """Return the fresh-process figures of :data:`_STARTUP` (times in s, RSS in KiB, imported flags)."""
    return subprocess.run(
        [sys.executable, "-c", _STARTUP], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()


def model_memory() -> tuple[int, int]:
    """Return the bytes the loaded model holds (and the peak while loading), traced in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _MODEL_MEMORY], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


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
    imported, loaded, first, rss_imported, rss_model, rss_first, sklearn, numpy = startup()
    model_ms = float(loaded) * 1000
    print(
        f"start-up in a fresh process: import replies {float(imported) * 1000:.0f} ms"
        f" (guards, pydantic, OpenCC, holidays), load the model {model_ms:.0f} ms,"
        f" first classify (rules, policy) {float(first) * 1000:.0f} ms"
    )
    held, peak = model_memory()
    print(
        f"memory: the loaded model holds {held / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB while loading);"
        f" process RSS {int(rss_imported) / 1024:.0f} MiB after import, {int(rss_model) / 1024:.0f} MiB"
        f" with the model, {int(rss_first) / 1024:.0f} MiB after the first classify"
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
    light = model_ms < 500 and sklearn == "False" and numpy == "False"
    print(f"{'PASS' if light else 'MISS'}: light run time (no scikit-learn/numpy, model loads in < 0.5 s)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
