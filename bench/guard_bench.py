"""Benchmark the outbound guard against two baselines, in one run.

    python bench/guard_bench.py [--rounds 3]

Messages: realistic agent messages of 10-300 characters built from the labelled cases
(tests/data/guard_cases.jsonl: ordinary replies, documented scripts, hard negatives and banned
variants, alone and joined into longer messages), plus a set of exactly 100-character messages for
the headline figure.

Matchers, each on the real catalogue (1x) and on a 10x catalogue (the real entries plus synthetic
entries of the same lengths drawn from the same characters):
- guard: guards.Guard (normalise, bigram prefilter, rapidfuzz alignment + Levenshtein refinement);
- naive: rapidfuzz ``fuzz.partial_ratio`` of every pattern against the normalised message;
- aho: pyahocorasick exact multi-pattern search over the raw message (no normalisation, no
  fuzziness): the speed ceiling.

Prints messages/s and p50/p99 microseconds per message, the ratios the issue sets targets for
(p50 at 100 chars <= 50 us; guard >= 10x faster than naive at 10x; guard 10x <= 2x guard 1x) and
the guard's recall on the banned cases with each catalogue (no recall may be lost at 10x).

Issue 16 adds: the block level (catalogue + concept classes on the phonetic key; "guard" above is
the block level) against the catalogue alone and ``fold`` alone, the normaliser every check starts
with, as the machine-speed baseline (a loaded machine slows all of them alike, so the ratios are what
to compare across runs); the cost of the review-level model on top; and ``kefu check --jsonl``
streaming every real agent answer of ``jddc/train.dec`` with both levels (target >= 2,000/s).

The block level is also measured interleaved with the stdlib baseline (``--interleaved-rounds``, each
message through both in turn): the ratio block / stdlib of the best times per message, the spread of the
ratios of single rounds, and the block level's median in the quietest round. On a shared machine whose
speed swings between runs, the ratio is the figure to compare.

``fold`` itself got faster with the guard's speed work (issue 16): ``stdlib`` (NFKC + case-fold, the
standard library alone, no project code) is printed beside it as a baseline no change here can move,
so that the block level's ratio to it can be compared across versions.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import ahocorasick
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guards import Guard, fold, load_catalogue  # noqa: E402
from guards.catalogue import Catalogue, Entry, pattern_text  # noqa: E402
from replies.realtext import real_dir  # noqa: E402

CASES = ROOT / "tests" / "data" / "guard_cases.jsonl"
NAIVE_CUTOFF = 80.0  # partial_ratio threshold of the naive loop


def load_cases() -> list[dict]:
    """Return the labelled cases."""
    with CASES.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def realistic_messages(cases: list[dict], rng: random.Random, count: int) -> list[str]:
    """Return ``count`` messages of 10-300 characters: one to several case texts joined, 1 in 8 banned."""
    clean = [case["text"] for case in cases if case["label"] == "allowed"]
    banned = [case["text"] for case in cases if case["label"] == "blocked"]
    out = []
    while len(out) < count:
        target = rng.choice([15, 30, 60, 100, 150, 220, 300])
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(banned if rng.random() < 0.04 else clean))
        message = "".join(parts)[:300]
        if len(message) >= 10:
            out.append(message)
    return out


def hundred_char_messages(cases: list[dict], rng: random.Random, count: int) -> list[str]:
    """Return ``count`` clean messages of exactly 100 characters (ordinary replies and scripts joined)."""
    clean = [case["text"] for case in cases if case["label"] == "allowed"]
    out = []
    for _ in range(count):
        text = ""
        while len(text) < 100:
            text += rng.choice(clean)
        out.append(text[:100])
    return out


def synthetic_catalogue(real: Catalogue, factor: int, rng: random.Random) -> Catalogue:
    """Return ``real`` plus ``factor - 1`` synthetic entries per real entry (same lengths, same alphabet)."""
    alphabet = [ch for entry in real.entries for ch in pattern_text(entry.phrase)]
    entries: list[Entry] = list(real.entries)
    for copy in range(1, factor):
        for entry in real.entries:
            length = len(pattern_text(entry.phrase))
            phrase = "".join(rng.choice(alphabet) for _ in range(length))
            entries.append(
                entry.model_copy(update={"id": f"{entry.id}-syn{copy}", "phrase": phrase, "clauses": ()})
            )
    return Catalogue(entries=tuple(entries), allow=real.allow, path=f"{real.path} x{factor}")


def naive_matcher(catalogue: Catalogue) -> Callable[[str], bool]:
    """Return the naive loop: partial_ratio of every pattern against the normalised message."""
    patterns = [pattern_text(entry.phrase) for entry in catalogue.entries]
    patterns += [pattern_text(clause) for entry in catalogue.entries for clause in entry.clauses]

    def blocked(text: str) -> bool:
        folded = fold(text)
        return any(fuzz.partial_ratio(p, folded, score_cutoff=NAIVE_CUTOFF) for p in patterns)

    return blocked


def aho_matcher(catalogue: Catalogue) -> Callable[[str], bool]:
    """Return exact multi-pattern matching on the raw text (phrases without trailing punctuation)."""
    automaton = ahocorasick.Automaton()
    for entry in catalogue.entries:
        for raw in (entry.phrase, *entry.clauses):
            key = raw.rstrip("。!?！？")
            automaton.add_word(key, entry.id)
    automaton.make_automaton()

    def blocked(text: str) -> bool:
        return next(automaton.iter(text), None) is not None

    return blocked


def stdlib_baseline(text: str) -> str:
    """Return NFKC + case-fold of ``text``: the standard library alone, a baseline the project cannot move."""
    return unicodedata.normalize("NFKC", text).casefold()


def timings(fn: Callable[[str], object], messages: Sequence[str], rounds: int) -> list[float]:
    """Return per-message times in microseconds (best of ``rounds`` for each message)."""
    for message in messages[:50]:
        fn(message)  # warm caches
    best = [float("inf")] * len(messages)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for index, message in enumerate(messages):
            start = clock()
            fn(message)
            elapsed = (clock() - start) / 1000.0
            if elapsed < best[index]:
                best[index] = elapsed
    return best


def interleaved(
    fn: Callable[[str], object], baseline: Callable[[str], object], messages: Sequence[str], rounds: int
) -> dict[str, float]:
    """Return ``fn`` against ``baseline`` measured interleaved: each message through one, then the other, in
    each of ``rounds`` rounds, so that a change of machine load slows both alike.

    Keys: ``p50`` and ``base_p50``, the medians of each message's best time (us); ``ratio``, their ratio;
    ``round_ratio``, ``round_low`` and ``round_high``, the median, lowest and highest ratio of one round's
    medians; ``quiet_p50`` and ``quiet_base``, the medians (us) of the quietest round (the one whose baseline
    median is the lowest).
    """
    for message in messages[:50]:
        fn(message)  # warm caches
        baseline(message)
    clock = time.perf_counter_ns
    best = [float("inf")] * len(messages)
    base_best = [float("inf")] * len(messages)
    per_round: list[tuple[float, float]] = []  # (baseline median, fn median) of each round
    for _ in range(rounds):
        times: list[float] = []
        base_times: list[float] = []
        for index, message in enumerate(messages):
            start = clock()
            baseline(message)
            middle = clock()
            fn(message)
            end = clock()
            base_times.append((middle - start) / 1000.0)
            times.append((end - middle) / 1000.0)
            best[index] = min(best[index], times[-1])
            base_best[index] = min(base_best[index], base_times[-1])
        per_round.append((statistics.median(base_times), statistics.median(times)))
    p50, base_p50 = statistics.median(best), statistics.median(base_best)
    ratios = sorted(fn_median / base_median for base_median, fn_median in per_round)
    quiet_base, quiet_p50 = min(per_round)
    return {
        "p50": p50,
        "base_p50": base_p50,
        "ratio": p50 / base_p50,
        "round_ratio": statistics.median(ratios),
        "round_low": ratios[0],
        "round_high": ratios[-1],
        "quiet_p50": quiet_p50,
        "quiet_base": quiet_base,
    }


def summary(name: str, times: list[float]) -> dict[str, float]:
    """Return and print messages/s, p50 and p99 for one run."""
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = len(times) / (sum(times) / 1e6)
    print(f"  {name:28} {rate:12,.0f} msg/s   p50 {p50:9.1f} us   p99 {p99:9.1f} us")
    return {"rate": rate, "p50": p50, "p99": p99}


def recall(fn: Callable[[str], bool], texts: Sequence[str]) -> float:
    """Return the share of ``texts`` that ``fn`` blocks."""
    return sum(1 for text in texts if fn(text)) / len(texts)


def jsonl_throughput(guard: Guard) -> tuple[int, float]:
    """Return (lines, lines per second) of ``kefu check --jsonl`` over every real agent answer."""
    import io

    from bot.commands.check import _stream

    path = real_dir() / "jddc" / "train.dec"
    if not path.exists():
        return 0, 0.0
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    stdin = io.StringIO(
        "".join(json.dumps({"id": n, "text": t}, ensure_ascii=False) + "\n" for n, t in enumerate(lines))
    )
    stdout = io.StringIO()
    started = time.perf_counter()
    count, _errors = _stream(guard, stdin, stdout, None)
    return count, count / (time.perf_counter() - started)


def main() -> None:
    """Run every matcher on both catalogues and print the figures and the target ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--interleaved-rounds", type=int, default=9, help="rounds of the block level measured against stdlib"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    cases = load_cases()
    messages = realistic_messages(cases, rng, args.messages)
    hundred = hundred_char_messages(cases, rng, 500)
    banned = [case["text"] for case in cases if case["label"] == "blocked" and case["kind"] != "paraphrased"]
    real = load_catalogue()
    big = synthetic_catalogue(real, 10, rng)
    print(
        f"{len(messages)} messages, {min(map(len, messages))}-{max(map(len, messages))} chars "
        f"(mean {statistics.mean(map(len, messages)):.0f}); catalogue {len(real.entries)} entries, "
        f"10x {len(big.entries)}"
    )
    results: dict[str, dict[str, float]] = {}
    recalls: dict[str, float] = {}
    for label, catalogue in (("1x", real), ("10x", big)):
        guard = Guard.from_catalogue(catalogue, review_model=None)  # the block level
        naive = naive_matcher(catalogue)
        aho = aho_matcher(catalogue)
        print(f"catalogue {label}: realistic messages")
        results[f"guard {label}"] = summary("guard", timings(guard.check, messages, args.rounds))
        results[f"naive {label}"] = summary("naive partial_ratio loop", timings(naive, messages, args.rounds))
        results[f"aho {label}"] = summary("pyahocorasick exact", timings(aho, messages, args.rounds))
        print(f"catalogue {label}: 100-character messages")
        results[f"guard100 {label}"] = summary("guard", timings(guard.check, hundred, args.rounds))
        naive100 = timings(naive, hundred, args.rounds)
        results[f"naive100 {label}"] = summary("naive partial_ratio loop", naive100)
        results[f"aho100 {label}"] = summary("pyahocorasick exact", timings(aho, hundred, args.rounds))
        recalls[f"guard {label}"] = recall(lambda text, g=guard: not g.check(text).allowed, banned)
        recalls[f"naive {label}"] = recall(naive, banned)
        recalls[f"aho {label}"] = recall(aho, banned)
    print("recall on banned cases (exact, embedded, obfuscated, edited):")
    for name, value in recalls.items():
        print(f"  {name:28} {value:7.1%}")
    print("levels at 100 chars (1x catalogue):")
    plain = Guard.from_catalogue(real, concepts=None, review_model=None)
    with_meaning = Guard.from_catalogue(real, review_model=None)
    full = Guard.from_catalogue(real)
    stdlib_times = summary("stdlib NFKC+casefold", timings(stdlib_baseline, hundred, args.rounds))
    fold_times = summary("fold (baseline)", timings(fold, hundred, args.rounds))
    plain_times = summary("guard, catalogue only", timings(plain.check, hundred, args.rounds))
    meaning_times = summary("block level (+ concepts)", timings(with_meaning.check, hundred, args.rounds))
    full_times = summary("+ review model", timings(full.check, hundred, args.rounds))
    paired = interleaved(with_meaning.check, stdlib_baseline, hundred, args.interleaved_rounds)
    print(f"block level and stdlib interleaved at 100 chars ({args.interleaved_rounds} rounds):")
    print(
        f"  block level p50 {paired['p50']:.1f} us, stdlib p50 {paired['base_p50']:.1f} us: "
        f"{paired['ratio']:.2f}x (best of {args.interleaved_rounds} per message)"
    )
    print(
        f"  per round: block / stdlib {paired['round_ratio']:.2f}x median "
        f"({paired['round_low']:.2f}-{paired['round_high']:.2f}x); quietest round: block level "
        f"{paired['quiet_p50']:.1f} us at stdlib {paired['quiet_base']:.1f} us"
    )
    lines, per_second = jsonl_throughput(full)
    p50 = results["guard100 1x"]["p50"]
    speedup = results["naive 10x"]["p50"] / results["guard 10x"]["p50"]
    growth = results["guard 10x"]["p50"] / results["guard 1x"]["p50"]
    print("targets:")
    print(f"  guard p50 at 100 chars, 1x catalogue: {p50:.1f} us (target <= 50)")
    print(f"  naive / guard at 10x (p50):           {speedup:.1f}x (target >= 10)")
    print(f"  guard 10x / guard 1x (p50):           {growth:.2f}x (target <= 2)")
    ceiling = results["guard 1x"]["p50"] / results["aho 1x"]["p50"]
    print(f"  guard / aho at 1x (p50):              {ceiling:.1f}x")
    print(f"  recall lost at 10x:                   {recalls['guard 1x'] - recalls['guard 10x']:+.1%}")
    print(f"  block level / catalogue only (p50):   {meaning_times['p50'] / plain_times['p50']:.2f}x")
    print(f"  block level / fold (p50):             {meaning_times['p50'] / fold_times['p50']:.1f}x")
    print(f"  block level / stdlib baseline (p50):  {meaning_times['p50'] / stdlib_times['p50']:.1f}x")
    print(
        f"  block level / stdlib, interleaved:    {paired['ratio']:.2f}x "
        f"(rounds {paired['round_low']:.2f}-{paired['round_high']:.2f}x; quietest round "
        f"{paired['quiet_p50']:.1f} us; target <= 50 us)"
    )
    print(f"  with review model / block level (p50): {full_times['p50'] / meaning_times['p50']:.2f}x")
    print(f"  kefu check --jsonl, {lines} real answers: {per_second:,.0f} lines/s (target >= 2,000)")


if __name__ == "__main__":
    main()
