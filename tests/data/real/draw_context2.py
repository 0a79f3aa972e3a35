"""Draw the pieces of ``agent_context_check2.jsonl``: ``python tests/data/real/draw_context2.py``.

A second, independent check set for the context rules (``guards/context.toml``), from another part of the
corpus than ``agent_context_tuning.jsonl``: agent turns *inside* the sessions of ``jddc/train.enc`` (never
``test.*``), each with the customer's message just before it. A line of ``train.enc`` is a session's
messages joined by commas (:func:`replies.realtext.turns`); who wrote each piece is read by a character-
bigram naive-Bayes score trained on the speaker labels already made (the customer label files' customer
turns and ``agent`` skips, and the ``train.enc`` pieces of ``agent_tuning*.jsonl``). A piece is a candidate
when:

- the score takes it for the agent's (log-odds >= 2) and it is at most 80 characters;
- it holds a refusal, inability, ignorance, referral, wait or system-says word (:data:`REPLY_WORDS`, a wider
  net than ``draw_context.py``'s);
- the guard allows it on its text alone (``check(piece)``, no context);
- no label file of this folder labels it, and at most two pieces per identical text are taken;
- a customer piece comes before it in the session: the nearest earlier piece the score takes for the
  customer's (log-odds < 0), recorded as ``context_turn`` (the context the guard is given, see
  ``guards.realeval.context_of``).

Two batches, each a ``random.Random(2026)`` sample shuffled once and then sorted into corpus order:
``"src": "random-context2"`` (300 of all candidates) and ``"src": "plea-context2"`` (200 more, of those
whose context holds a plea, complaint or repeated-ask word of :data:`CHASE_WORDS`, a list written for this
draw, wider than the cue words of ``context.toml``, so that rude replies are numerous enough to count; there
were fewer, so all were taken), then ``"src": "session-context2"`` (every other candidate one of whose
customer pieces among the four pieces up to the context holds such a word: the plea said a message earlier).
Prints one JSON object per line with ``text`` and ``context`` for reading; the label file keeps neither.
``split``: ``design`` for an odd corpus line, ``check`` for an even one.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections import Counter
from pathlib import Path

from guards.matcher import check
from replies.realtext import real_dir, sha, turns

HERE = Path(__file__).resolve().parent
FILE = "jddc/train.enc"
REPLY_WORDS = re.compile(
    "无法|不能|没法|不支持|不可以|不行|没办法|没有办法|不了(?!解)|不知道|不清楚|不了解|不确定|说不好|不好说"
    "|(联系|找|问|咨询|问问)(一下|下)?(快递|物流|售后|厂家|商家|卖家|站点|配送|快递员|配送员|师傅)"
    "|系统|物流显示|为准|只能|只有|等待|等着|耐心等|请等|再等|稍等几|不负责|不归|没有权限|做不了|管不了|帮不了"
)
CHASE_WORDS = re.compile(
    "急|催|快点|快一点|尽快|赶紧|马上|求|拜托|帮帮|帮我|帮忙|麻烦|怎么还|为什么还|咋还|还没|还不|还是没|一直|到底"
    "|几天了|好几天|多少天|一个星期|一周了|太慢|好慢|这么慢|等了|投诉|差评|不满意|太差|垃圾|失望|生气|坑|骗"
    "|无语|受不了|怎么回事|什么情况|搞什么|凭什么|说好|不是说|退钱|不要了|用不了|坏了|再问|又|[?？]{2}|[!！]{2}"
)
ORDER = 2.0  # log-odds at or above which a piece is the agent's
CUSTOMER = 0.0  # log-odds below which a piece is the customer's
SEED = 2026
RANDOM_N = 300
CHASE_N = 200


def _bigrams(text: str) -> list[str]:
    padded = f"^{text}$"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


class Speaker:
    """A character-bigram naive-Bayes score: log P(agent | piece) - log P(customer | piece)."""

    def __init__(self, agent: list[str], customer: list[str]) -> None:
        self.counts = {"agent": Counter(), "customer": Counter()}
        for name, texts in (("agent", agent), ("customer", customer)):
            for text in texts:
                self.counts[name].update(_bigrams(text))
        self.vocab = len(set(self.counts["agent"]) | set(self.counts["customer"])) + 1
        self.totals = {name: sum(counts.values()) for name, counts in self.counts.items()}
        self.prior = math.log(len(agent) / len(customer))

    def score(self, text: str) -> float:
        total = self.prior
        for gram in _bigrams(text):
            a = (self.counts["agent"][gram] + 1) / (self.totals["agent"] + self.vocab)
            c = (self.counts["customer"][gram] + 1) / (self.totals["customer"] + self.vocab)
            total += math.log(a / c)
        return total


def _rows(path: Path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines() if raw.strip()]


def labelled() -> set[tuple[str, int, int]]:
    """Return every piece any label file of this folder already labels (customer or agent)."""
    done = set()
    for path in sorted(HERE.glob("*.jsonl")):
        if path.name == "agent_context_check2.jsonl":
            continue
        for row in _rows(path):
            done.add((row["file"], int(row["line"]), int(row["turn"])))
    return done


def speaker(lines: list[str]) -> Speaker:
    """Train the speaker score on the speaker labels of ``train.enc`` already made."""
    agent, customer = [], []
    for path in sorted(HERE.glob("*.jsonl")):
        if not (path.name.startswith("customer_") or path.name.startswith("agent_tuning")):
            continue
        for row in _rows(path):
            if row["file"] != FILE:
                continue
            pieces = turns(lines[int(row["line"]) - 1])
            text = pieces[int(row["turn"])] if int(row["turn"]) < len(pieces) else ""
            if not text:
                continue
            if path.name.startswith("agent_tuning") or row.get("skip") == "agent":
                agent.append(text)
            elif "intent" in row:
                customer.append(text)
    return Speaker(agent, customer)


def hits() -> list[dict]:
    """Return every candidate agent turn of ``train.enc`` in corpus order, with its context."""
    lines = (real_dir() / FILE).read_text(encoding="utf-8").splitlines()
    score = speaker(lines)
    done = labelled()
    seen: Counter[str] = Counter()
    out = []
    for number, line in enumerate(lines, 1):
        pieces = turns(line)
        for turn, piece in enumerate(pieces):
            if turn == 0 or not piece or len(piece) > 80 or (FILE, number, turn) in done:
                continue
            if REPLY_WORDS.search(piece) is None or score.score(piece) < ORDER:
                continue
            before = next(
                (t for t in range(turn - 1, -1, -1) if pieces[t] and score.score(pieces[t]) < CUSTOMER), None
            )
            if before is None or not check(piece).allowed:
                continue
            key = re.sub(r"#E-[a-z]\[[^\]]*\]|[\W_]+", "", piece)
            if seen[key] >= 2:
                continue
            seen[key] += 1
            out.append(
                {
                    "file": FILE,
                    "line": number,
                    "turn": turn,
                    "sha": sha(piece),
                    "context_turn": before,
                    "text": piece,
                    "context": pieces[before],
                    "between": [p for p in pieces[before + 1 : turn] if p],
                    "asked": [
                        p for p in pieces[max(0, before - 3) : before + 1] if p and score.score(p) < CUSTOMER
                    ],
                    "after": [p for p in pieces[turn + 1 : turn + 3] if p],
                }
            )
    return out


def draw() -> list[dict]:
    """Return the two batches, each in corpus order, with their source and split."""
    found = hits()
    rng = random.Random(SEED)
    order = list(range(len(found)))
    rng.shuffle(order)
    first = sorted(order[:RANDOM_N])
    taken = set(first)
    chase = [i for i in order[RANDOM_N:] if CHASE_WORDS.search(found[i]["context"])]
    second = sorted(chase[:CHASE_N])
    taken |= set(second)
    third = sorted(
        i for i in order if i not in taken and any(CHASE_WORDS.search(text) for text in found[i]["asked"])
    )
    out = []
    batches = (("random-context2", first), ("plea-context2", second), ("session-context2", third))
    for src, picked in batches:
        for i in picked:
            row = found[i]
            out.append(dict(row, src=src, split="design" if row["line"] % 2 else "check"))
    return out


if __name__ == "__main__":
    for row in draw():
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
