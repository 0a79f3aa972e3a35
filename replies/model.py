"""The statistical intent model: hashed character n-grams, a linear layer, a calibrated softmax.

Inference is pure Python over a shipped data file (``replies/model/intent_model.json.gz``, written
by ``kefu train``): no scikit-learn, no numpy at run time. A message is prepared (:func:`prepare`:
simplified and case-folded like the guard, but numbers, links, order cards and emoji become class
symbols, and Latin words keep their boundaries so that ``sb`` inside ``usb`` is another feature than
``sb`` alone), cut into character 1-3-grams (:func:`features`), each hashed (CRC-32) into
``2**bits`` buckets. The file holds, for the buckets that carry weight, one int8 row per bucket
(one weight per intent, times ``scale``), the biases and the calibration temperature; never text.

>>> model = load_model()
>>> model.predict("在吗").key in model.classes
True
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import unicodedata
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from guards.normalize import fold

__all__ = [
    "DEFAULT_MODEL",
    "FORMAT",
    "IntentModel",
    "ModelError",
    "Prediction",
    "features",
    "hashed",
    "load_model",
    "mask_platforms",
    "prepare",
    "rule_cues",
]

DEFAULT_MODEL = Path(__file__).with_name("model") / "intent_model.json.gz"
FORMAT = "kefu-intent-model/1"

# Class symbols: what a message is made of matters more than its exact digits or address.
_SYMBOL_LINK = "Ⓛ"
_SYMBOL_LONG_NUMBER = "Ⓝ"
_SYMBOL_ORDER = "Ⓞ"
_SYMBOL_AMOUNT = "Ⓐ"
_SYMBOL_DATE = "Ⓓ"
_SYMBOL_NAME = "Ⓟ"
_SYMBOL_EMOJI = "Ⓔ"
_SYMBOL_QUESTION = "?"
_SYMBOL_EXCLAIM = "!"
_SYMBOL_ELLIPSIS = "…"

# Desensitised placeholders of the public JD.com corpus, and their everyday forms.
_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"#E-[a-z]\[[^\]]*\]"), _SYMBOL_EMOJI),
    (re.compile(r"\[ORDERID_[^\]]*\]"), _SYMBOL_ORDER),
    (re.compile(r"\[链接[^\]]*\]|\[url[^\]]*\]|https?://\S+|www\.\S+", re.IGNORECASE), _SYMBOL_LINK),
    (re.compile(r"\[金额[^\]]*\]|[¥￥$]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*元"), _SYMBOL_AMOUNT),
    (re.compile(r"\[日期[^\]]*\]|\[时间[^\]]*\]"), _SYMBOL_DATE),
    (re.compile(r"\[姓名[^\]]*\]|\[地址[^\]]*\]|\[站点[^\]]*\]|\[组织机构[^\]]*\]"), _SYMBOL_NAME),
    (re.compile(r"\[数字[^\]]*\]|\[电话[^\]]*\]|\d{5,}"), _SYMBOL_LONG_NUMBER),
)
_QUESTION = frozenset("?？")
_EXCLAIM = frozenset("!！")
_ELLIPSIS = frozenset("…。.~～")
_LATIN = re.compile(r"[a-z]+")
_NGRAM_SIZES = (1, 2, 3)


class ModelError(ValueError):
    """The model file is missing or malformed; the message names the file and the field."""


def _mark(ch: str) -> str:
    """Return the class symbol of a character ``fold`` drops, or "" when it carries nothing."""
    if ch in _QUESTION:
        return _SYMBOL_QUESTION
    if ch in _EXCLAIM:
        return _SYMBOL_EXCLAIM
    if ch in _ELLIPSIS:
        return _SYMBOL_ELLIPSIS
    if unicodedata.category(ch) == "So":
        return ch if ch in "👍👌🙏" else _SYMBOL_EMOJI
    return ""


@lru_cache(maxsize=8192)
def _dropped_symbol(ch: str) -> str | None:
    """Return None for a character ``fold`` keeps, else its class symbol ("" when it carries nothing)."""
    return None if fold(ch) else _mark(ch)


@lru_cache(maxsize=256)
def prepare(text: str) -> str:
    """Return ``text`` as the model reads it: folded, class symbols for numbers/links/emoji, Latin spaced.

    The last texts' results are kept: the classifier prepares a message twice (is it empty, its features).

    >>> prepare("訂單 123456 到了嗎？？ https://x.cn 👍")
    '订单Ⓝ到了吗?Ⓛ👍'
    """
    for pattern, symbol in _PLACEHOLDERS:
        text = pattern.sub(symbol, text)
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if ch in "ⓁⓃⓄⒶⒹⓅⒺ":
            if run:
                out.append(fold("".join(run)))
                run.clear()
            out.append(ch)
            continue
        symbol = _dropped_symbol(ch)
        if symbol:
            if run:
                out.append(fold("".join(run)))
                run.clear()
            if not out or not out[-1].endswith(symbol):
                out.append(symbol)
        else:
            run.append(ch)
    out.append(fold("".join(run)))
    return _LATIN.sub(lambda m: f" {m.group()} ", "".join(out)).replace("  ", " ").strip()


def mask_platforms(text: str, platforms: Iterable[str]) -> str:
    """Return ``text`` with each platform name replaced by the name symbol: a platform is no topic."""
    for platform in platforms:
        if platform:
            text = text.replace(platform, _SYMBOL_NAME)
    return text


def rule_cues(scores: Mapping[str, float]) -> list[str]:
    """Return the rules' verdicts as features: ``#rule:<intent>:hi`` (score ≥ 0.7) or ``:lo`` (≥ 0.35).

    The hand-written classes of meaning (``intents.toml``) become evidence the model weighs.
    """
    cues = []
    for key, score in scores.items():
        if score >= 0.7:
            cues.append(f"#rule:{key}:hi")
        elif score >= 0.35:
            cues.append(f"#rule:{key}:lo")
    return cues


def features(text: str, cues: Iterable[str] = ()) -> list[str]:
    """Return the distinct features of a message: character 1-3-grams with ^/$ edges, length, rule cues.

    >>> features("好的")[:4]
    ['好', '的', '^好', '好的']
    """
    prepared = prepare(text)
    padded = "^" + prepared + "$"
    seen: dict[str, None] = {}
    for ch in prepared:
        if ch != " ":
            seen.setdefault(ch, None)
    for size in _NGRAM_SIZES[1:]:
        for start in range(len(padded) - size + 1):
            seen.setdefault(padded[start : start + size], None)
    length = len(prepared.replace(" ", ""))
    seen.setdefault(
        "#len" + ("0" if length == 0 else "1" if length <= 2 else "2" if length <= 6 else "3"), None
    )
    for cue in cues:
        seen.setdefault(cue, None)
    return list(seen)


def hashed(names: Iterable[str], bits: int) -> list[int]:
    """Return the distinct bucket (CRC-32 of the UTF-8 name, low ``bits`` bits) of each feature name."""
    mask = (1 << bits) - 1
    return sorted({zlib.crc32(name.encode("utf-8")) & mask for name in names})


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's answer: the best intent ``key``, its calibrated probability, and every probability."""

    key: str
    confidence: float
    probabilities: dict[str, float]


class IntentModel:
    """A loaded model: ``predict(text)`` returns a :class:`Prediction`."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        bits: int,
        bias: Sequence[float],
        rows: Sequence[int],
        weights: Sequence[int],
        scale: float,
        temperature: float,
        meta: dict | None = None,
    ) -> None:
        if len(weights) != len(rows) * len(classes):
            raise ModelError("weights: expected one row of len(classes) per bucket")
        self.classes = tuple(classes)
        self.bits = bits
        self.bias = tuple(bias)
        self.rows = array("I", rows)
        self.weights = array("b", weights)
        self.scale = scale
        self.temperature = temperature
        self.meta = dict(meta or {})
        # bucket -> where its row of weights starts: one dict lookup per feature instead of a bisection
        self._row_start = {bucket: index * len(self.classes) for index, bucket in enumerate(self.rows)}

    @property
    def uses_rule_cues(self) -> bool:
        """Return whether the model was trained with the rules' verdicts as features (:func:`rule_cues`)."""
        return bool(self.meta.get("rule_cues"))

    def logits(self, text: str, cues: Iterable[str] = ()) -> list[float]:
        """Return the uncalibrated score of each class for ``text`` (features L2-normalised)."""
        buckets = hashed(features(text, cues), self.bits)
        width = len(self.classes)
        weights, row_start = self.weights, self._row_start
        found = [weights[base : base + width] for b in buckets if (base := row_start.get(b)) is not None]
        sums = [sum(column) for column in zip(*found, strict=True)] if found else [0] * width
        norm = self.scale / math.sqrt(len(buckets)) if buckets else 0.0
        return [b + s * norm for b, s in zip(self.bias, sums, strict=True)]

    def predict(self, text: str, cues: Iterable[str] = ()) -> Prediction:
        """Return the most probable intent of ``text`` with its temperature-calibrated probability.

        ``cues``: the rules' verdicts (:func:`rule_cues`) when :attr:`uses_rule_cues`.
        """
        logits = [value / self.temperature for value in self.logits(text, cues)]
        top = max(logits)
        exps = [math.exp(value - top) for value in logits]
        total = sum(exps)
        probabilities = {key: e / total for key, e in zip(self.classes, exps, strict=True)}
        best = max(self.classes, key=probabilities.__getitem__)
        return Prediction(best, probabilities[best], probabilities)

    def to_dict(self) -> dict:
        """Return the model as the JSON object ``save`` writes (weights base64-encoded int8)."""
        return {
            "format": FORMAT,
            "classes": list(self.classes),
            "bits": self.bits,
            "bias": [round(b, 6) for b in self.bias],
            "scale": self.scale,
            "temperature": round(self.temperature, 6),
            "rows": base64.b64encode(_delta_encode(self.rows)).decode("ascii"),
            "weights": base64.b64encode(self.weights.tobytes()).decode("ascii"),
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (gzip JSON, byte-identical for the same model); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=0).encode("utf-8")
        path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
        return path


def _delta_encode(rows: Sequence[int]) -> bytes:
    """Return sorted bucket ids as LEB128 varints of their differences (compact, exact)."""
    out = bytearray()
    previous = 0
    for row in rows:
        delta = row - previous
        previous = row
        while True:
            byte = delta & 0x7F
            delta >>= 7
            out.append(byte | (0x80 if delta else 0))
            if not delta:
                break
    return bytes(out)


def _delta_decode(data: bytes) -> list[int]:
    rows: list[int] = []
    value = shift = previous = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        previous += value
        rows.append(previous)
        value = shift = 0
    return rows


def load_model(path: str | Path | None = None) -> IntentModel:
    """Return the model at ``path`` (default: the packaged one); :class:`ModelError` names the defect."""
    path = Path(path) if path is not None else DEFAULT_MODEL
    try:
        raw = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise ModelError(f"{path.name}: cannot read the intent model: {exc}") from None
    if raw.get("format") != FORMAT:
        raise ModelError(f"{path.name}: format: expected {FORMAT!r}, got {raw.get('format')!r}")
    try:
        weights = array("b")
        weights.frombytes(base64.b64decode(raw["weights"]))
        return IntentModel(
            classes=raw["classes"],
            bits=int(raw["bits"]),
            bias=[float(b) for b in raw["bias"]],
            rows=_delta_decode(base64.b64decode(raw["rows"])),
            weights=weights,
            scale=float(raw["scale"]),
            temperature=float(raw["temperature"]),
            meta=raw.get("meta", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path.name}: {exc}") from None


@lru_cache(maxsize=1)
def default_model() -> IntentModel:
    """Return the packaged model, loaded once."""
    return load_model()
