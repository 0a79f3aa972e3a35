"""The pure cores the desk works with, passed in as one value: guard, intent classifier, scripts, FAQ, policy.

The desk (:class:`~bot.desk.customers.SupportDesk`, :class:`~bot.desk.agents.AgentDesk`) and the
outbound guard take a :class:`Cores`; without one they use :meth:`Cores.installed`, the catalogues
every surface uses (the package plus ``KEFU_SHOP_DIR``, installed by :func:`bot.ops.shop.use_shop_folder`).
A test or a second shop passes its own: ``Cores.for_shop(folder)``, or
``dataclasses.replace(cores, guard=…)`` for a guard of its own (a fresh verdict memo comes with it).

Example::

    cores = Cores.for_shop("/etc/kefu/shop")
    desk = SupportDesk(storage, settings, cores=cores)
    cores.check("您好").allowed        # True (the verdict is remembered for the outbound guard)
    cores.intent("在吗").key           # 'greeting' (remembered: the next 在吗 is not classified again)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.desk.memo import Memo
from bot.desk.verdicts import Checks, VerdictMemo
from guards import Verdict, default_guard
from replies.catalogue import ScriptCatalogue, default_scripts
from replies.classifier import classify
from replies.faq import FaqCatalogue, default_faq
from replies.policy import Policy, default_policy
from replies.router import Intent

__all__ = ["INTENT_MEMO_SIZE", "Classify", "Cores"]

Classify = Callable[..., Intent]  # (text, *, platforms=…) -> Intent, like replies.classify
# Intents remembered by (text, platforms). Customers repeat short messages (你好, 在吗, 谢谢, 好的 …), and
# classifying one is about a third of the desk's work on a message (issue 15). The classifier is pure and
# fixed for a Cores (another one comes with a new memo), so a memo answers exactly as it would.
INTENT_MEMO_SIZE = 4096


@dataclass(frozen=True)
class Cores:
    """One shop's pure rules: who may say what, what a message means, and what the bot answers."""

    guard: Checks
    scripts: ScriptCatalogue  # with the FAQ answers as script ``faq`` (see bot.ops.shop)
    faq: FaqCatalogue
    policy: Policy
    classify: Classify = classify
    verdicts: VerdictMemo = field(init=False, repr=False, compare=False)
    intents: Memo[tuple[str, tuple[str, ...] | None], Intent] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdicts", VerdictMemo(self.guard))
        classify = self.classify
        object.__setattr__(
            self, "intents", Memo(lambda key: classify(key[0], platforms=key[1]), INTENT_MEMO_SIZE)
        )

    def intent(self, text: str, *, platforms: tuple[str, ...] | None = None) -> Intent:
        """Return :attr:`classify`'s intent of ``text`` (with the shop's ``platforms``), remembered."""
        return self.intents((text, platforms))

    def check(self, text: str, context: str | None = None) -> Verdict:
        """Return the guard's verdict on ``text``, remembered (the desk and the outbound guard share it).

        ``context``: the customer's last message, which ``text`` answers (:meth:`VerdictMemo.check`).
        """
        return self.verdicts.check(text, context)

    def render(self, key: str, variant: str | None = None, **values: object) -> str:
        """Return script ``key`` (optionally ``variant``) with its placeholders filled from ``values``."""
        return self.scripts.render(key, variant, **values)

    @classmethod
    def installed(cls) -> Cores:
        """Return the cores in use now: the package plus what :func:`bot.ops.shop.use_shop_folder` installed.

        The same value (and so the same verdict memo) while nothing new is installed.
        """
        parts = (default_guard(), default_scripts(), default_faq(), default_policy())
        with _installed_lock:
            current = _installed[0]
            held = (current.guard, current.scripts, current.faq, current.policy) if current else ()
            if current is None or any(mine is not theirs for mine, theirs in zip(held, parts, strict=True)):
                current = cls(*parts)
                _installed[0] = current
            return current

    @classmethod
    def packaged(cls) -> Cores:
        """Return the cores of the package alone (no shop folder), freshly loaded."""
        return cls.for_shop(None)

    @classmethod
    def for_shop(cls, shop_dir: str | Path | None) -> Cores:
        """Return the cores of the package plus the shop folder ``shop_dir``, validated; install nothing.

        Raises ``CatalogueError``, ``ScriptError`` or ``FaqError`` naming the file, the entry and the field.
        """
        from bot.ops.shop import load_shop

        shop = load_shop(shop_dir)
        return cls(shop.guard, shop.scripts, shop.faq, default_policy())


_installed: list[Cores | None] = [None]  # the last Cores.installed(), kept so its memo is shared
_installed_lock = threading.Lock()
