"""Read real customer-service text by reference: ``(file, line, turn)`` → the message, never a copy.

The real corpora live beside the checkout in ``../shared/data/real/`` (``KEFU_REAL_DIR`` overrides it);
the project's label files refer to a message by file, line and turn and hold no corpus text. A line
of a JDDC file is one session's turns joined by ASCII commas; :func:`turns` splits it the one way
every label file assumes (commas inside a message split it too, so labellers skip such pieces).
Each label may carry ``sha``, the first 8 hex digits of the turn's SHA-1, which :func:`resolve`
checks so a changed corpus cannot silently shift the labels.

>>> ref = Ref("jddc/test.enc", 1, 0)      # line numbers from 1, turns from 0
>>> ref.key
'jddc/test.enc:1:0'
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LabelError", "Ref", "corpus_lines", "read_labels", "real_dir", "resolve", "sha", "turns"]


class LabelError(ValueError):
    """A label file line that is not valid, or that no longer matches the corpus."""


@dataclass(frozen=True, slots=True)
class Ref:
    """Where a real message is: corpus file (relative to the real folder), line (from 1), turn (from 0)."""

    file: str
    line: int
    turn: int

    @property
    def key(self) -> str:
        """Return ``file:line:turn``, a stable id for reports."""
        return f"{self.file}:{self.line}:{self.turn}"


def real_dir() -> Path:
    """Return the real corpora's folder: ``KEFU_REAL_DIR``, or ``../shared/data/real`` beside the checkout."""
    override = os.environ.get("KEFU_REAL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"


def turns(line: str) -> list[str]:
    """Return one corpus line split on ASCII commas, stripped; empty pieces stay, so indices are stable."""
    return [piece.strip() for piece in line.rstrip("\n").split(",")]


@functools.lru_cache(maxsize=8)
def corpus_lines(path: Path) -> tuple[str, ...]:
    """Return the lines of the corpus file ``path`` (the last few files read are kept)."""
    return tuple(path.read_text(encoding="utf-8").splitlines())


def sha(text: str) -> str:
    """Return the first 8 hex digits of the SHA-1 of ``text`` (a label's check on its turn)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def resolve(ref: Ref, *, expected_sha: str | None = None, root: Path | None = None) -> str:
    """Return the text of the turn ``ref`` points to; LabelError if out of range or its sha differs."""
    lines = corpus_lines((root or real_dir()) / ref.file)
    if not 1 <= ref.line <= len(lines):
        raise LabelError(f"{ref.key}: line out of range (1..{len(lines)})")
    pieces = turns(lines[ref.line - 1])
    if not 0 <= ref.turn < len(pieces):
        raise LabelError(f"{ref.key}: turn out of range (0..{len(pieces) - 1})")
    text = pieces[ref.turn]
    if expected_sha is not None and sha(text) != expected_sha:
        raise LabelError(f"{ref.key}: the corpus text changed (sha {sha(text)} != {expected_sha})")
    return text


def read_labels(path: Path, *, root: Path | None = None) -> Iterator[tuple[Ref, str, dict[str, Any]]]:
    """Yield ``(ref, text, label)`` for each line of a label file; the text is read from the corpus."""
    for number, raw in enumerate(_nonblank(path.read_text(encoding="utf-8").splitlines()), start=1):
        try:
            label = json.loads(raw)
            ref = Ref(str(label["file"]), int(label["line"]), int(label["turn"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise LabelError(f"{path.name} line {number}: {exc}") from exc
        yield ref, resolve(ref, expected_sha=label.get("sha"), root=root), label


def _nonblank(lines: Iterable[str]) -> Iterator[str]:
    return (line for line in lines if line.strip())
