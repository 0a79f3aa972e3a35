"""The figures a shop feels, on every set beyond ``guard_cases.jsonl`` (``python -m guards.eval``).

Sets, each reported when its file exists:

- hand-written JSONL sets (``{"text", "label": "blocked"|"allowed", "kind"}``): the meaning tuning sets
  ``tests/data/guard_meaning_tuning.jsonl``, ``guard_meaning_tuning2.jsonl`` and
  ``guard_meaning_tuning3.jsonl`` (bare replies with subjects and particles, slang, pinyin, Cantonese
  and Taiwanese wording, and near misses), ``guard_meaning_tuning4.jsonl`` (a second such set by another
  writer: real-style brush-offs, outside-list phrasings per category, slang, Taiwanese, Cantonese),
  ``guard_meaning_tuning5.jsonl`` (a third such set, written for recall before its writer read the rules),
  ``guard_meaning_tuning6.jsonl`` (a fourth, likewise written from the seeds before the rules were read:
  real-style brush-offs, outside-list phrasings of all nine categories, pinyin, homophones, Cantonese,
  Taiwanese, and near misses built from the same words), ``guard_nearmiss_tuning6.jsonl`` (427 helpful
  JD/Taobao agent sentences sharing words with the banned phrasings and 70 rude controls from the same words,
  written from the seeds before the rules were read, precision round 4), ``guard_meaning_tuning7.jsonl`` (a
  fifth, written from the seeds and the JD agents' style before the rules were read, recall round 5:
  real-style brush-offs, outside-list phrasings and pinyin across the nine categories, and 253 near misses
  built from the same words), ``guard_meaning_tuning8.jsonl`` and ``guard_nearmiss_tuning7.jsonl`` (a sixth
  pair, written round 6 from the seeds in four batches, each before the guard was run on it: 448 rude replies
  in forum and Sichuan slang, homophones, memes, pinyin, initials and tone marks, Cantonese, Taiwanese and
  outside-list phrasings of the nine categories, JD-style soft brush-offs; 352 helpful near misses saying the
  same words politely), ``guard_meaning_tuning9.jsonl`` and ``guard_nearmiss_tuning8.jsonl`` (a seventh pair,
  written round 7 from the seeds in eight batches, each measured before tuning on it: 386 rude replies,
  weighted to JD/Taobao-style soft brush-offs (亲/小妹/呢/哦, flat refusals, "you should have…", the courier's
  or the system's business, repetition reproaches, mock-politeness) and outside-list phrasings of the nine
  categories, with pinyin, homophones, Cantonese, Taiwanese and reworded ones; 282 helpful near misses built
  from the same words),
  ``guard_nearmiss_tuning3.jsonl`` (helpful near misses judged on who and what, rude controls),
  ``guard_nearmiss_tuning4.jsonl`` (helpful near misses in styles other than the team's: long chat
  messages, step lists, product descriptions, empathy, quotes, Taiwanese and Cantonese; rude controls),
  ``guard_nearmiss_tuning5.jsonl`` (helpful near misses across the nine categories written like JD/Taobao
  agents, with typos, emoji, conditionals, reported speech and follow-up offers; rude look-alikes) and the
  unseen sets ``guard_nearmiss_unseen.jsonl`` and ``guard_reworded_unseen.jsonl`` (written by others;
  never tuned on), and ``guard_nearmiss_unseen2.jsonl`` and ``guard_reworded_unseen2.jsonl`` (written last
  and never tuned on: by a helper session on 2026-12-01 from the source documents in ../shared/seeds
  and knowledge of JD.com/Taobao chat, without seeing the guard's catalogue, code or other sets;
  report-only), and ``guard_nearmiss_unseen3.jsonl`` and ``guard_reworded_unseen3.jsonl`` (a third such
  blind set by another helper session on 2026-12-01: real-style brush-offs, outside-list and reworded
  phrasings, pinyin, homophones, Cantonese and Taiwanese; helpful near misses in all nine categories;
  report-only), ``guard_nearmiss_unseen4.jsonl`` / ``guard_reworded_unseen4.jsonl`` and
  ``guard_nearmiss_unseen5.jsonl`` / ``guard_reworded_unseen5.jsonl`` (the fourth and fifth blind pairs,
  2026-12-01 and 2026-12-02, written the same way and measured on the code of their day before any of
  that day's work was merged; report-only). A rude case is caught when the guard holds it (block or
  review); a helpful one is wrong when it is blocked (its review rate is shown too);
- labelled real agent replies (``tests/data/real/agent_*.jsonl``, labels ``allowed`` | ``review`` |
  ``blocked`` that refer to the corpus by file, line and turn; the tuning sets ``agent_tuning.jsonl``,
  ``agent_tuning2.jsonl``, ``agent_tuning3.jsonl`` and ``agent_tuning4.jsonl``, the report-only
  ``agent_eval*.jsonl``): blocks a QA
  lead would overturn (a block on an ``allowed`` reply) per 10,000, rude replies caught, review rate on
  civil replies, and every block listed for reading;
- every real agent reply of the corpus (``jddc/*.dec``, unlabelled): block and review rates, every
  block listed.

Real replies are reported twice, clearly labelled: on their text alone ("text only") and with the
customer's last message before them read from the corpus as context (:func:`context_of`; "with
context", see ``guards/context.toml``). ``agent_context_tuning.jsonl`` (flat refusals, referrals and
ignorance statements the guard allows alone, labelled with the customer's message; rows carry
``"split": "design" | "check"``) is reported per split: the context rules were written on the design half;
so is ``agent_context_check2.jsonl`` (agent turns inside ``train.enc`` sessions, each naming the customer turn
it was labelled after, ``context_turn``; the round-2 context rules were written on its design half).

Targets (issue 16): overturned blocks <= 1 per 10,000 real replies; near-miss blocked <= 1%; real rude
caught >= 90%; outside-list rude >= 80%; pinyin/homophone/dialect >= 90%; reworded caught >= 50% at
<= 1% review rate on real civil replies. Only the hand-written sets the team wrote and tunes on count
for the exit status; real and unseen sets are reported.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from guards.matcher import Guard, Verdict

if TYPE_CHECKING:
    from replies.realtext import Ref

__all__ = [
    "BLOCKED_AT_MOST",
    "CAUGHT_TARGETS",
    "REAL_CONTEXT_LABELS",
    "RULES_TUNING",
    "TUNING",
    "context_of",
    "report_all_sets",
]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TUNING = (
    DATA / "guard_meaning_tuning.jsonl",
    DATA / "guard_meaning_tuning2.jsonl",
    DATA / "guard_nearmiss_tuning3.jsonl",
    DATA / "guard_meaning_tuning3.jsonl",
    DATA / "guard_nearmiss_tuning4.jsonl",
    DATA / "guard_meaning_tuning4.jsonl",
    DATA / "guard_nearmiss_tuning5.jsonl",
    DATA / "guard_meaning_tuning5.jsonl",
)
# Tuning sets the eval reports and counts like TUNING but the review model does not learn from: written
# to measure the concept rules' recall (the rules are tuned on them). As model examples they raised the
# review rate on civil real replies (agent_tuning 2.10% -> 2.31%) and pushed the model past its size cap.
# guard_nearmiss_tuning6 (helpful near misses and rude controls written from the seeds before the rules were
# read, precision round 4): out of fold (two folds of every training text, random.Random(1)) it cut the
# model's held civil texts 0.72% -> 0.37% but lost rude catches 72.9% -> 65.8%: the model does not learn it.
# guard_meaning_tuning7 (recall round 5), the round-6 written pair (guard_meaning_tuning8,
# guard_nearmiss_tuning7) and the round-7 pair (guard_meaning_tuning9, guard_nearmiss_tuning8) are likewise
# for the rules only.
RULES_TUNING = (
    DATA / "guard_meaning_tuning6.jsonl",
    DATA / "guard_nearmiss_tuning6.jsonl",
    DATA / "guard_meaning_tuning7.jsonl",
    DATA / "guard_meaning_tuning8.jsonl",
    DATA / "guard_nearmiss_tuning7.jsonl",
    DATA / "guard_meaning_tuning9.jsonl",
    DATA / "guard_nearmiss_tuning8.jsonl",
)
# Written after the rules, as a check of how they generalise; its misses are not tuned on.
HOLDOUT = DATA / "guard_meaning_holdout.jsonl"
UNSEEN = (
    DATA / "guard_nearmiss_unseen.jsonl",
    DATA / "guard_reworded_unseen.jsonl",
    DATA / "guard_nearmiss_unseen2.jsonl",
    DATA / "guard_reworded_unseen2.jsonl",
    DATA / "guard_nearmiss_unseen3.jsonl",
    DATA / "guard_reworded_unseen3.jsonl",
    DATA / "guard_nearmiss_unseen4.jsonl",
    DATA / "guard_reworded_unseen4.jsonl",
    DATA / "guard_nearmiss_unseen5.jsonl",
    DATA / "guard_reworded_unseen5.jsonl",
)
# The labelled real agent replies of jddc/train.* (by reference): tuned on, and the review model's real
# examples (guards.train_review); jddc/test.* is report-only.
REAL_TUNING = ("agent_tuning.jsonl", "agent_tuning2.jsonl", "agent_tuning3.jsonl", "agent_tuning4.jsonl")
# Each tuning file is reported as "tuning", "tuning 2", …: a file added to REAL_TUNING is reported too.
REAL_LABELS = (
    *((f"tuning {n}" if n > 1 else "tuning", DATA / "real" / name) for n, name in enumerate(REAL_TUNING, 1)),
    ("eval (report only)", DATA / "real" / "agent_eval.jsonl"),
    ("eval enriched (report only)", DATA / "real" / "agent_eval_enriched.jsonl"),
)
# Labelled real replies whose label depends on the customer's message (issue 16): the context rules are
# tuned on their design half; not the review model's examples (it reads a reply's text alone).
# agent_context_check2.jsonl: a second such set from another part of the corpus (agent turns inside the
# sessions of train.enc, the customer's message named by "context_turn"), labelled before it was measured.
REAL_CONTEXT_LABELS = (
    ("context tuning", DATA / "real" / "agent_context_tuning.jsonl"),
    ("context check 2", DATA / "real" / "agent_context_check2.jsonl"),
)
REAL_FILES = ("jddc/train.dec", "jddc/test.dec")

# Hand-written kinds: the share of rude cases that must be caught (block or review) ...
CAUGHT_TARGETS = {
    "reworded": 0.50,
    "outside_list": 0.80,
    "pinyin": 0.90,
    "homophone": 0.90,
    "dialect": 0.90,
    "cantonese": 0.90,
    "taiwanese": 0.90,
    "real_style": 0.90,
}
# ... and the share of helpful cases that may be blocked.
BLOCKED_AT_MOST = {"nearmiss": 0.01}

Echo = Callable[[str], None]
# How hand-written sets may spell their labels.
LABELS = {
    "blocked": "blocked",
    "block": "blocked",
    "rude": "blocked",
    "review": "blocked",
    "allowed": "allowed",
    "allow": "allowed",
    "civil": "allowed",
    "helpful": "allowed",
}


def _last_turn(enc_line: str) -> str | None:
    """Return the last non-empty turn of an ``.enc`` line (what the ``.dec`` line answers), or None."""
    from replies.realtext import turns

    asked = [piece for piece in turns(enc_line) if piece]
    return asked[-1] if asked else None


def context_of(ref: Ref, root: Path | None = None, context_turn: int | None = None) -> str | None:
    """Return the customer's last message before the real reply ``ref``, or None when it is unknown.

    A line of a ``.dec`` file answers the same line of the ``.enc`` file of the same name (turns Q,A,Q,A,Q
    joined by commas): the context is that line's last non-empty turn. For an agent turn inside an
    ``.enc`` line it is the turn ``context_turn`` of the same line when the label names it (the customer's
    message the labeller read, see ``agent_context_check2.jsonl``: the agent often sends several messages
    in a row), else the turn before. The split on commas is approximate (see the corpus README).
    """
    from replies.realtext import corpus_lines, real_dir, turns

    base = root if root is not None else real_dir()
    if ref.file.endswith(".dec"):
        path = base / (ref.file.removesuffix(".dec") + ".enc")
        if not path.exists():
            return None
        lines = corpus_lines(path)
        if not 0 < ref.line <= len(lines):
            return None
        return _last_turn(lines[ref.line - 1])
    before = ref.turn - 1 if context_turn is None else context_turn
    if not 0 <= before < ref.turn:
        return None
    lines = corpus_lines(base / ref.file)
    if not 0 < ref.line <= len(lines):
        return None
    pieces = turns(lines[ref.line - 1])
    if before >= len(pieces):
        return None
    return pieces[before] or None


def _why(verdict: Verdict) -> str:
    """Return the rule or catalogue entry behind a verdict's first hit."""
    return verdict.hits[0].rule or verdict.hits[0].entry_id


def report_hand_written(guard: Guard, path: Path, echo: Echo, *, counts: bool) -> bool:
    """Print caught / blocked rates per kind of a hand-written set; return False when a target is missed."""
    groups: dict[tuple[str, str], list[tuple[str, Verdict]]] = {}
    default_kind = "nearmiss" if "nearmiss" in path.name else "reworded" if "reworded" in path.name else "?"
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = LABELS.get(str(row.get("label", row.get("expected", ""))).lower())
                text = row["text"]
            except (ValueError, KeyError, TypeError, AttributeError):
                label, text = None, None
            if label is None or not isinstance(text, str):
                echo(f"== {path.name}:{number}: not a case (needs text and label blocked|allowed); skipped")
                continue
            key = (label, str(row.get("kind") or default_kind))
            groups.setdefault(key, []).append((text, guard.check(text)))
    ok = True
    echo(f"== {path.name}" + ("" if counts else "  (reported, not tuned on)"))
    for (label, kind), items in sorted(groups.items()):
        total = len(items)
        blocked = sum(v.level == "block" for _, v in items)
        review = sum(v.level == "review" for _, v in items)
        if label == "blocked":
            rate = (blocked + review) / total
            target = CAUGHT_TARGETS.get(kind, CAUGHT_TARGETS["reworded"] if "reworded" in path.name else None)
            met = target is None or rate >= target
            mark = "" if target is None else f"  (target >= {target:.0%}){'' if met else '  MISSED'}"
            echo(
                f"rude     {kind:14} caught {rate:7.1%}  (block {blocked}, review {review} of {total}){mark}"
            )
            if counts:
                for text, verdict in items:
                    if verdict.allowed:
                        echo(f"  missed [{kind}]: {text}")
        else:
            rate = blocked / total
            target = BLOCKED_AT_MOST.get(
                kind, BLOCKED_AT_MOST["nearmiss"] if "nearmiss" in path.name else None
            )
            met = target is None or rate <= target
            mark = "" if target is None else f"  (target <= {target:.0%}){'' if met else '  MISSED'}"
            echo(f"helpful  {kind:14} blocked {rate:6.1%}  review {review / total:6.1%}  [{total}]{mark}")
            if counts:
                for text, verdict in items:
                    if verdict.level is not None:
                        echo(f"  {verdict.level} [{kind}]: {text}  <- {_why(verdict)}")
        ok = ok and (met or not counts)
    return ok


def report_real_labels(guard: Guard, name: str, path: Path, echo: Echo) -> None:
    """Print what a QA lead sees on labelled real replies, on their text alone and with the customer's
    message as context (per split when the rows carry one), and list every block.
    """
    from replies.realtext import read_labels

    outcome: Counter[tuple[str, str, str | None]] = Counter()  # (mode, label, level)
    splits: Counter[tuple[str, str, str, bool]] = Counter()  # (split, mode, label, held)
    blocks: list[str] = []
    for ref, text, label in read_labels(path):
        kind = label.get("label")
        if kind is None:
            continue
        verdict = guard.check(text)
        context = context_of(ref, context_turn=label.get("context_turn"))
        with_context = guard.check(text, context) if verdict.allowed else verdict
        for mode, level in (("text", verdict.level), ("context", with_context.level)):
            outcome[(mode, kind, level)] += 1
            if "split" in label:
                splits[(str(label["split"]), mode, kind, level is not None)] += 1
        if verdict.level == "block":
            blocks.append(f"  block on {kind:8} {ref.key}  <- {_why(verdict)}: {text[:80]}")
    by_label: Counter[str] = Counter()
    for (mode, kind, _), count in outcome.items():
        if mode == "text":
            by_label[kind] += count
    total = sum(by_label.values())
    overturned = outcome[("text", "allowed", "block")]
    echo(f"== real agent replies, {name}: {path.name} ({total} replies: {dict(by_label)})")
    echo(
        f"overturned blocks (block on an allowed reply): {overturned}"
        f"  = {overturned / total * 10000:.1f} per 10,000"
    )
    echo(f"blocks on borderline (review-labelled) replies: {outcome[('text', 'review', 'block')]}")
    for mode, title in (("text", "text only"), ("context", "with context")):
        for kind in ("blocked", "review"):
            n = by_label[kind]
            if n:
                caught = n - outcome[(mode, kind, None)]
                echo(
                    f"{title:12} {kind}-labelled caught: {caught / n:6.1%} ({caught} of {n};"
                    f" block {outcome[(mode, kind, 'block')]},"
                    f" review {outcome[(mode, kind, 'review')]})"
                )
        civil = by_label["allowed"]
        if civil:
            rate = outcome[(mode, "allowed", "review")] / civil
            echo(f"{title:12} review rate on allowed replies: {rate:.2%}")
    for split in sorted({key[0] for key in splits}):
        for mode, title in (("text", "text only"), ("context", "with context")):
            rude = sum(
                splits[(split, mode, kind, held)] for kind in ("blocked", "review") for held in (True, False)
            )
            caught = sum(splits[(split, mode, kind, True)] for kind in ("blocked", "review"))
            civil = splits[(split, mode, "allowed", True)] + splits[(split, mode, "allowed", False)]
            held = splits[(split, mode, "allowed", True)]
            echo(
                f"split {split:7} {title:12} rude caught {caught} of {rude};"
                f" allowed held {held} of {civil} ({held / max(civil, 1):.2%})"
            )
    for line in blocks:
        echo(line)


def report_real_files(guard: Guard, echo: Echo) -> None:
    """Print block and review rates on every real agent reply of the corpus, on its text alone and with
    the customer's last message (the last turn of the same line of the ``.enc`` file) as context, and
    list every block.
    """
    from replies.realtext import real_dir

    for file in REAL_FILES:
        path = real_dir() / file
        if not path.exists():
            echo(f"== {file}: not found (KEFU_REAL_DIR)")
            continue
        raw = path.read_text(encoding="utf-8").splitlines()
        asked_path = path.with_suffix(".enc")
        asked = asked_path.read_text(encoding="utf-8").splitlines() if asked_path.exists() else []
        lines: list[str] = []
        contexts: list[str | None] = []
        for number, line in enumerate(raw):
            if not line.strip():
                continue
            lines.append(line.strip())
            contexts.append(_last_turn(asked[number]) if number < len(asked) else None)
        started = time.perf_counter()
        verdicts = [guard.check(line) for line in lines]
        elapsed = time.perf_counter() - started
        with_context = [
            guard.check(line, context) if verdict.allowed else verdict
            for line, context, verdict in zip(lines, contexts, verdicts, strict=True)
        ]
        levels = Counter(v.level for v in verdicts)
        raised = Counter(v.level for v in with_context)
        n = len(lines)
        echo(
            f"== all real agent answers, {file} ({n} lines, unlabelled): block {levels['block']}"
            f" ({levels['block'] / n * 10000:.1f} per 10,000),"
            f" review {levels['review']} ({levels['review'] / n:.2%}) text only,"
            f" {raised['review']} ({raised['review'] / n:.2%}) with context"
            f" ({raised['review'] - levels['review']:+d});"
            f" {n / elapsed:,.0f} lines/s (text only)"
        )
        for number, (line, verdict) in enumerate(zip(lines, verdicts, strict=True), 1):
            if verdict.level == "block":
                echo(f"  block {file}:{number}  <- {_why(verdict)}: {line[:80]}")


def report_all_sets(guard: Guard, echo: Echo) -> bool:
    """Report every set that exists; return False when a target on a set the team tunes on is missed."""
    ok = True
    for path in (*TUNING, *RULES_TUNING):
        if path.exists():
            ok = report_hand_written(guard, path, echo, counts=True) and ok
    if HOLDOUT.exists():
        report_hand_written(guard, HOLDOUT, echo, counts=False)
    for path in UNSEEN:
        if path.exists():
            report_hand_written(guard, path, echo, counts=False)
    for name, path in (*REAL_LABELS, *REAL_CONTEXT_LABELS):
        if path.exists():
            report_real_labels(guard, name, path, echo)
    report_real_files(guard, echo)
    return ok
