"""The guard's verdicts on every labelled text, recorded so that a speed change can prove it changed none.

    .venv/bin/python tests/guard_snapshot.py      # rewrite tests/data/guard_verdicts.jsonl

Texts (none is copied into the fixture: each line names its text by source and SHA-1 prefix):

- every text of the hand-written sets ``tests/data/guard_*.jsonl``;
- every labelled real agent reply (``tests/data/real/agent_*.jsonl``, read through ``replies.realtext``)
  and every line of the real agent files ``jddc/train.dec`` and ``jddc/test.dec`` (when the corpus is
  there: ``../shared/data/real``);
- longer messages made by joining hand-written texts (a fixed seed), some longer than
  :data:`guards.CHUNK_CHARS`, so that offsets, clause boundaries and chunking are covered.

Each line: ``{"src", "digest"}`` (a hand-written or joined text's source names it by its SHA-1 prefix, a
real one by file, line and turn), ``digest`` being the SHA-1 prefix of the text and of its whole verdict
(:meth:`guards.Verdict.to_dict`: level, every hit with its offsets, score, rule and concept, the
suggestion), plus, for a message held, its ``level`` and ``hits`` in short (``entry|rule|start-end``)
to read a difference by.
The first line holds the fingerprint of the data the verdicts depend on (catalogue, concepts, review
model): when that data changes on purpose, the verdicts change too and this script is run again.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from guards import CHUNK_CHARS, Guard, load_catalogue  # noqa: E402
from replies.realtext import read_labels, real_dir, sha  # noqa: E402

DATA = ROOT / "tests" / "data"
SNAPSHOT = DATA / "guard_verdicts.jsonl"
# The data files every verdict depends on; their contents make the fingerprint.
GUARD_DATA = tuple(ROOT / "guards" / name for name in ("banned.toml", "concepts.toml", "review_model.json"))
REAL_FILES = ("jddc/train.dec", "jddc/test.dec")
JOINED_SEED = 16
JOINED_COUNT = 400


def data_fingerprint() -> str:
    """Return the SHA-1 prefix of the catalogue, concepts and review model files together."""
    digest = hashlib.sha1()
    for path in GUARD_DATA:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _hand_written() -> list[tuple[str, str]]:
    """Return (source, text) of every line of the hand-written guard sets."""
    out = []
    for path in sorted(DATA.glob("guard_*.jsonl")):
        if path == SNAPSHOT:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                out.append((f"{path.name}:{sha(text)}", text))
    return out


def _joined(texts: list[str]) -> Iterator[tuple[str, str]]:
    """Yield (source, text) of messages joined from ``texts``: 50-600 characters, and a few past a chunk."""
    rng = random.Random(JOINED_SEED)
    for number in range(JOINED_COUNT):
        target = rng.choice([50, 100, 200, 400, 600]) if number % 50 else CHUNK_CHARS + 700
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            parts.append(rng.choice(texts))
        text = "".join(parts)
        yield f"joined:{sha(text)}", text


def _real() -> Iterator[tuple[str, str]]:
    """Yield (source, text) of every labelled real reply and every line of the real agent files."""
    root = real_dir()
    if not root.exists():
        return
    for path in sorted((DATA / "real").glob("agent_*.jsonl")):
        for ref, text, _label in read_labels(path):
            yield ref.key, text
    for name in REAL_FILES:
        corpus = root / name
        if corpus.exists():
            for number, line in enumerate(corpus.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip():
                    yield f"{name}:{number}", line.strip()


def snapshot_texts() -> list[tuple[str, str]]:
    """Return (source, text) of every text the snapshot covers (real ones only when the corpus is there)."""
    hand = _hand_written()
    return hand + list(_joined([text for _, text in hand])) + list(_real())


def verdict_record(guard: Guard, source: str, text: str) -> dict:
    """Return the snapshot line of ``text``: its source, the digest of text and verdict, hits in short."""
    verdict = guard.check(text)
    whole = json.dumps(verdict.to_dict(), ensure_ascii=False, sort_keys=True)
    record: dict = {"src": source, "digest": hashlib.sha1(f"{text}\n{whole}".encode()).hexdigest()[:12]}
    if not verdict.allowed:
        record["level"] = verdict.level
        shown = verdict.hits[:3]
        record["hits"] = [f"{hit.entry_id}|{hit.rule or hit.method}|{hit.start}-{hit.end}" for hit in shown]
    return record


def snapshot_guard() -> Guard:
    """Return the guard the snapshot is taken with: the packaged catalogue, concepts and review model."""
    return Guard.from_catalogue(load_catalogue())


def main() -> None:
    """Write the snapshot file from the current guard."""
    guard = snapshot_guard()
    lines = [json.dumps({"fingerprint": data_fingerprint()})]
    for source, text in snapshot_texts():
        lines.append(json.dumps(verdict_record(guard, source, text), ensure_ascii=False))
    SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{SNAPSHOT.relative_to(ROOT)}: {len(lines) - 1} verdicts")


if __name__ == "__main__":
    main()
