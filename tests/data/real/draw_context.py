"""Draw the pieces of ``agent_context_tuning.jsonl``: ``python tests/data/real/draw_context.py``.

Real agent replies of ``jddc/train.dec`` (never ``test.*``) of at most 60 characters that hold a refusal,
inability, ignorance, referral or system-says word and that the guard allows on their text alone, none
already in ``agent_tuning*.jsonl``, at most two pieces per identical text. Prints one JSON object per line,
``{"file", "line", "turn", "sha", "src", "split", "text", "context"}`` (the label file keeps neither text
nor context). ``context`` is the customer's last message: the last turn of the same line of ``train.enc``.
Every hit is drawn (``"src": "search-context"``); ``split``: ``design`` for an odd corpus line,
``check`` for an even one (rules are written on the design half only).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from guards.matcher import check
from replies.realtext import real_dir, sha, turns

HERE = Path(__file__).resolve().parent
REPLY_WORDS = re.compile(
    "无法|不能|没法|不支持|不可以|不行|没办法|没有办法|不了(?!解)|不知道|不清楚|不确定|说不好|不好说"
    "|(联系|找|问|咨询)(一下|下)?(快递|物流|售后|厂家|商家|卖家|站点|配送)|系统显示|物流显示|为准|只能"
)


def labelled() -> set[tuple[str, int, int]]:
    """Return the pieces already labelled in the agent tuning files."""
    done = set()
    for path in sorted(HERE.glob("agent_tuning*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                row = json.loads(raw)
                done.add((row["file"], int(row["line"]), int(row["turn"])))
    return done


def hits() -> list[dict]:
    """Return every candidate piece of ``jddc/train.dec`` in corpus order, with its context."""
    dec = (real_dir() / "jddc/train.dec").read_text(encoding="utf-8").splitlines()
    enc = (real_dir() / "jddc/train.enc").read_text(encoding="utf-8").splitlines()
    done = labelled()
    seen: dict[str, int] = {}
    out = []
    for number, (line, question) in enumerate(zip(dec, enc, strict=True), 1):
        asked = [piece for piece in turns(question) if piece]
        context = asked[-1] if asked else ""
        for turn, piece in enumerate(turns(line)):
            if not piece or len(piece) > 60 or ("jddc/train.dec", number, turn) in done:
                continue
            if REPLY_WORDS.search(piece) is None or not check(piece).allowed:
                continue
            key = re.sub(r"#E-[a-z]\[[^\]]*\]|[\W_]+", "", piece)
            if seen.get(key, 0) >= 2:
                continue
            seen[key] = seen.get(key, 0) + 1
            out.append(
                {
                    "file": "jddc/train.dec",
                    "line": number,
                    "turn": turn,
                    "sha": sha(piece),
                    "text": piece,
                    "context": context,
                }
            )
    return out


def draw() -> list[dict]:
    """Return every hit, in corpus order, with its batch and split."""
    return [dict(row, src="search-context", split="design" if row["line"] % 2 else "check") for row in hits()]


if __name__ == "__main__":
    for row in draw():
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
