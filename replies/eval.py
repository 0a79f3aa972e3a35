"""Measure customer understanding on labelled sets: ``python -m replies.eval [FILE ...]``.

For each set it prints the accuracy and per-intent precision/recall of the router (the model with
the rules where they beat it), of the rules alone and of a keyword-only baseline (first matching
keyword wins), and what a shop feels, decided by the real policy (``policy.toml``) as if each
message opened a conversation in business hours with no agent engaged:

- wrong auto-replies: a script was sent and the message's intent is not the one the script answers
  (a reply to an ``other`` message counts: it was pointless), per message;
- complaint tickets: real complaints for which a ticket actually opened (a suggestion is not one),
  with the receipt sent or silently (a likely complaint below the receipt's threshold), and the
  tickets opened for messages that are no complaint;
- civility: insults that got the warning, and warnings sent to civil customers;
- suggestions offered to the agents instead of a send;
- a reliability table: how often the router is right at each confidence.

Without arguments it measures three kinds of sets, each named in the output:

- **tuning** (the model was trained on them, so the figures are optimistic): ``intent_cases``,
  ``intent_holdout``, the synthetic ``intent_train`` and ``intent_train_real_style`` (written in the way
  real customers write complaints and insults, with civil look-alikes) and the labelled real turns
  ``real/customer_train`` and ``real/customer_train_12`` (``python -m replies.tune`` gives their honest
  out-of-fold figures);
- **unseen written** (never trained or tuned on): ``intent_fresh``, and ``intent_unseen`` when present;
- **real eval** (JD.com customer turns nobody on the team wrote; report only, never tuned on):
  ``real/customer_eval`` (a random sample: what a shop's traffic looks like) and
  ``real/customer_eval_enriched`` (the rare intents found by search).

Misses are printed only for tuning sets and only with ``--misses``: the other sets must stay unseen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from replies.classifier import Classifier, default_classifier
from replies.policy import ConversationState, Message, Policy, decide, default_policy
from replies.realtext import read_labels
from replies.router import INTENT_KEYS, Intent
from replies.schedule import Schedule

__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_FRESH",
    "DEFAULT_HOLDOUT",
    "DEFAULT_SETS",
    "Case",
    "Outcome",
    "Report",
    "evaluate",
    "format_report",
    "load_cases",
    "main",
    "outcome",
]

_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEFAULT_CASES = _DATA / "intent_cases.jsonl"
DEFAULT_HOLDOUT = _DATA / "intent_holdout.jsonl"
DEFAULT_FRESH = _DATA / "intent_fresh.jsonl"
DEFAULT_SETS: tuple[tuple[str, Path], ...] = (
    ("tuning", DEFAULT_CASES),
    ("tuning", DEFAULT_HOLDOUT),
    ("tuning", _DATA / "intent_train.jsonl"),
    ("tuning", _DATA / "intent_train_real_style.jsonl"),
    ("tuning", _DATA / "real" / "customer_train.jsonl"),
    ("tuning", _DATA / "real" / "customer_train_12.jsonl"),
    ("unseen written", DEFAULT_FRESH),
    ("unseen written", _DATA / "intent_unseen.jsonl"),
    ("real eval", _DATA / "real" / "customer_eval.jsonl"),
    ("real eval", _DATA / "real" / "customer_eval_enriched.jsonl"),
)
# A working Monday morning: the eval's "first message in business hours".
_TZ = ZoneInfo("Asia/Shanghai")
_SCHEDULE = Schedule(((time(8), time(12)), (time(14), time(18))), _TZ)
_AT = datetime(2026, 11, 23, 10, 0, tzinfo=_TZ)
_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message."""

    text: str
    intent: str


@dataclass(frozen=True)
class Report:
    """One set's figures (see the module docstring); ``misses`` are (case, predicted intent)."""

    total: int
    correct: int
    precision: dict[str, float]
    recall: dict[str, float]
    support: dict[str, int]
    baseline_correct: int
    misses: tuple[tuple[Case, str], ...]
    rules_correct: int = 0
    replies_sent: int = 0
    wrong_replies: int = 0
    suggestions: int = 0
    complaints: int = 0
    tickets: int = 0
    silent_tickets: int = 0  # of ``tickets``: opened without a receipt (the agent confirms)
    spurious_tickets: int = 0  # tickets for messages that are no complaint
    insults: int = 0
    warned_insults: int = 0
    civil_warned: int = 0
    reliability: tuple[tuple[float, float, int, float, float], ...] = field(default=())
    # For the intents the rules decide: (intent, source, precision, recall) for model / rules / both.
    rule_check: tuple[tuple[str, str, float, float], ...] = field(default=())

    @property
    def accuracy(self) -> float:
        """Return the share of cases classified as labelled."""
        return self.correct / self.total if self.total else 0.0

    @property
    def baseline_accuracy(self) -> float:
        """Return the share the keyword-only baseline gets right."""
        return self.baseline_correct / self.total if self.total else 0.0

    @property
    def rules_accuracy(self) -> float:
        """Return the share the hand-written rules alone get right."""
        return self.rules_correct / self.total if self.total else 0.0

    @property
    def wrong_reply_rate(self) -> float:
        """Return wrong auto-replies per message."""
        return self.wrong_replies / self.total if self.total else 0.0


def load_cases(path: str | Path) -> list[Case]:
    """Return the cases of a set: ``{"text","intent"}`` JSONL, or a real-text label file (read by reference).

    ValueError names a bad line; a label file's skipped pieces are left out.
    """
    path = Path(path)
    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    if first and "file" in json.loads(first) and "text" not in json.loads(first):
        cases = [
            Case(text, str(label["intent"]))
            for _, text, label in read_labels(path)
            if label.get("intent") and not label.get("skip")
        ]
    else:
        cases = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                cases.append(Case(str(row["text"]), str(row["intent"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name}:{number}: not a case: {exc}") from None
    for number, case in enumerate(cases, 1):
        if case.intent not in INTENT_KEYS:
            raise ValueError(f"{path.name}:{number}: unknown intent {case.intent!r}")
    return cases


def _first_plan(text: str, intent: Intent, policy: Policy):
    return decide(Message(text, intent), ConversationState(), _SCHEDULE, _AT, policy=policy)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the bot does with one labelled message as the first of a conversation in business hours."""

    sent: bool  # a script went out
    wrong: bool  # a script went out and the intent read was wrong
    complaint: bool  # the message is a complaint
    ticket: bool  # a complaint got its ticket
    silent: bool  # … without the receipt (the agent confirms it)
    spurious: bool  # a ticket for a message that is no complaint
    insult: bool  # the message is an insult
    warned: bool  # an insult got its warning
    civil_warned: bool  # a civil customer got a warning
    suggestions: int  # scripts offered to the agent


def outcome(text: str, intent: Intent, truth: str, policy: Policy) -> Outcome:
    """Return the :class:`Outcome` of reading ``text`` as ``intent`` when it really is ``truth``."""
    plan = _first_plan(text, intent, policy)
    sent = bool(plan.replies)
    receipt = any(send.key == "complaint_receipt" for send in plan.replies)
    warning = any(send.key.startswith("uncivil") for send in plan.replies)
    ticket = plan.ticket is not None
    complaint, insult = truth == "complaint", truth == "uncivil"
    return Outcome(
        sent=sent,
        wrong=sent and intent.key != truth,
        complaint=complaint,
        ticket=complaint and ticket,
        silent=complaint and ticket and not receipt,
        spurious=ticket and truth not in ("complaint", "complaint_followup"),
        insult=insult,
        warned=warning and insult,
        civil_warned=warning and not insult,
        suggestions=len(plan.suggestions),
    )


def evaluate(
    cases: Iterable[Case], classifier: Classifier | None = None, policy: Policy | None = None
) -> Report:
    """Return the :class:`Report` of ``classifier`` (default: the packaged one) on ``cases``."""
    classifier = classifier or default_classifier()
    policy = policy or default_policy()
    cases = list(cases)
    intents = [classifier.classify(c.text) for c in cases]
    predicted = [i.key for i in intents]
    router = classifier.router
    baseline_correct = sum(router.keyword_baseline(c.text) == c.intent for c in cases)
    rules_correct = sum(router.classify(c.text).key == c.intent for c in cases)  # rules alone
    precision, recall, support = {}, {}, {}
    for key in INTENT_KEYS:
        true_pos = sum(p == key and c.intent == key for p, c in zip(predicted, cases, strict=True))
        said = sum(p == key for p in predicted)
        actual = sum(c.intent == key for c in cases)
        support[key] = actual
        precision[key] = true_pos / said if said else 0.0
        recall[key] = true_pos / actual if actual else 0.0
    outcomes = [outcome(c.text, i, c.intent, policy) for c, i in zip(cases, intents, strict=True)]
    reliability = []
    for low, high in pairwise(_BINS):
        inside = [
            (i.score, i.key == c.intent) for i, c in zip(intents, cases, strict=True) if low <= i.score < high
        ]
        if inside:
            mean = sum(score for score, _ in inside) / len(inside)
            right = sum(ok for _, ok in inside) / len(inside)
            reliability.append((low, min(high, 1.0), len(inside), mean, right))
    rule_check = []
    model_alone = [classifier.model_only(c.text) for c in cases]
    rules_alone = [router.classify(c.text).key for c in cases]
    for key in sorted(classifier.rule_intents):
        for source, guesses in (("model", model_alone), ("rules", rules_alone), ("both", predicted)):
            hits = sum(g == key and c.intent == key for g, c in zip(guesses, cases, strict=True))
            said = sum(g == key for g in guesses)
            rule_check.append(
                (key, source, hits / said if said else 0.0, hits / support[key] if support[key] else 0.0)
            )
    misses = tuple((c, p) for c, p in zip(cases, predicted, strict=True) if c.intent != p)
    return Report(
        total=len(cases),
        correct=len(cases) - len(misses),
        precision=precision,
        recall=recall,
        support=support,
        baseline_correct=baseline_correct,
        misses=misses,
        rules_correct=rules_correct,
        replies_sent=sum(o.sent for o in outcomes),
        wrong_replies=sum(o.wrong for o in outcomes),
        suggestions=sum(o.suggestions for o in outcomes),
        complaints=support["complaint"],
        tickets=sum(o.ticket for o in outcomes),
        silent_tickets=sum(o.silent for o in outcomes),
        spurious_tickets=sum(o.spurious for o in outcomes),
        insults=support["uncivil"],
        warned_insults=sum(o.warned for o in outcomes),
        civil_warned=sum(o.civil_warned for o in outcomes),
        reliability=tuple(reliability),
        rule_check=tuple(rule_check),
    )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "- (0)"


def format_report(report: Report, *, misses: bool = False) -> str:
    """Return the report as printed by ``python -m replies.eval`` (misses only when asked)."""
    lines = [
        f"cases: {report.total}",
        f"accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
        f"rules alone: {report.rules_accuracy:.1%}",
        f"keyword-only baseline (first matching keyword wins): {report.baseline_accuracy:.1%}",
        f"auto-replies sent: {_share(report.replies_sent, report.total)}",
        f"wrong auto-replies per message: {_share(report.wrong_replies, report.total)}",
        f"complaint tickets opened: {_share(report.tickets, report.complaints)}"
        f" — with the receipt sent {_share(report.tickets - report.silent_tickets, report.complaints)},"
        f" silent (receipt suggested) {report.silent_tickets}",
        f"tickets for messages that are no complaint: {_share(report.spurious_tickets, report.total)}",
        f"insults warned: {_share(report.warned_insults, report.insults)}",
        f"civil customers warned: {report.civil_warned}",
        f"suggestions offered to agents: {report.suggestions}",
        "",
        f"{'intent':<20}{'precision':>10}{'recall':>10}{'n':>6}",
    ]
    for key in INTENT_KEYS:
        lines.append(
            f"{key:<20}{report.precision[key]:>10.1%}{report.recall[key]:>10.1%}{report.support[key]:>6}"
        )
    lines += ["", "where the rules decide (precision / recall): model alone, rules alone, both"]
    lines += [f"  {key:<16}{source:<7}{p:>8.1%}{r:>8.1%}" for key, source, p, r in report.rule_check]
    lines += ["", "reliability (confidence bin: n, mean confidence, share right):"]
    lines += [
        f"  {low:.2f}-{high:.2f}: {n:>5}  {mean:6.1%}  {right:6.1%}"
        for low, high, n, mean, right in report.reliability
    ]
    if misses:
        lines += ["", f"misses ({len(report.misses)}):"]
        lines += [f"  {case.intent:<18} → {got:<18} {case.text}" for case, got in report.misses]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the evaluation on each set; return the exit status (2: bad input)."""
    parser = argparse.ArgumentParser(prog="python -m replies.eval", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="labelled sets (default: every packaged set present)")
    parser.add_argument("--misses", action="store_true", help="list the misses of tuning sets")
    args = parser.parse_args(argv)
    if args.cases:
        named = [("given", Path(name)) for name in args.cases]
    else:
        named = [(kind, path) for kind, path in DEFAULT_SETS if path.exists()]
    try:
        sets = [(kind, path, load_cases(path)) for kind, path in named]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reports = [(kind, path, evaluate(cases)) for kind, path, cases in sets]
    for index, (kind, path, report) in enumerate(reports):
        if index:
            print()
        print(f"== {path.name} [{kind}]")
        show = args.misses and kind in ("tuning", "given")
        print(format_report(report, misses=show))
    real = [report for kind, _, report in reports if kind == "real eval"]
    if len(real) > 1:
        total = sum(r.total for r in real)
        print(
            f"\n== all real eval sets together: n={total}, "
            f"wrong auto-replies {_share(sum(r.wrong_replies for r in real), total)}, "
            f"complaint tickets {_share(sum(r.tickets for r in real), sum(r.complaints for r in real))}, "
            f"insults warned {_share(sum(r.warned_insults for r in real), sum(r.insults for r in real))}, "
            f"civil customers warned {sum(r.civil_warned for r in real)}"
        )
    if len(reports) > 1:
        print("\nsummary:")
        for kind, path, report in reports:
            print(
                f"  {path.name:<30} {kind:<15} accuracy {report.accuracy:6.1%}"
                f"  rules {report.rules_accuracy:6.1%}"
                f"  keyword {report.baseline_accuracy:6.1%}  wrong replies {report.wrong_reply_rate:5.1%}"
                f"  tickets {_share(report.tickets, report.complaints)}  n={report.total}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
