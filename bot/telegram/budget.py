"""Telegram's three send limits as a budget the sender spends before each call, so 429s stay rare.

Telegram allows about 30 messages a second per bot, one a second per private chat and 20 a minute
per group. In a forum group, creating or renaming a topic posts a service message and an edit costs
like a send (tdlib/td#2592: "they share the limit. Creating a forum topic is sending a message about
its creation"), so every call that makes or changes a message counts (:data:`COUNTED`).

:class:`SendBudget` keeps a sliding window per limit and answers, for one call, "may it go now, and if
not, in how many seconds". :meth:`SendBudget.reserve` checks and takes the slot in one step (no await
between them), so calls in flight together can never overrun a window. Windows are widened by
``margin_s``: Telegram counts a call when it arrives, which can be a little later or earlier than
when it left. Once Telegram answered, :meth:`SendBudget.answered` moves a private chat's slot to the time
of the answer: Telegram counted the call before it answered, so however late the request arrived, the
chat's next message cannot come too early. A group's window keeps the time a call left, widened by
:data:`GROUP_MARGIN_S` (1 s); the bot-wide one by :data:`GLOBAL_MARGIN_S`. A 429's ``retry_after`` pauses
the chat (or the whole bot) on top. It is arithmetic on the times it is given: the sender owns the clock.

:func:`merge_hold` is the sender's one decision of when to hold a relay back: a new customer's first relay
into a spare topic, while its group is short of budget, waits a little for the customer's next messages, so
one message carries them all.

Example::

    budget = SendBudget(Limits())
    wait = budget.reserve(chat_id, "sendMessage", now)   # 0.0: counted, send it now
    if wait:
        ...try again in `wait` seconds...
"""

from __future__ import annotations

from collections import deque

from bot.ops.limits import Limits

__all__ = [
    "COUNTED",
    "GROUP_WINDOW_S",
    "MERGE_HOLD_MAX_S",
    "MERGE_QUIET_S",
    "NotYet",
    "SendBudget",
    "counts",
    "merge_hold",
]

GROUP_WINDOW_S = 60.0
GLOBAL_WINDOW_S = 1.0
MARGIN_S = 0.05
# A group's minute is widened by a second for the link's jitter. (Moving a group's slot to Telegram's
# answer with a 0.05 s margin was tried: the bench then saw group 429s in runs on a loaded machine, not
# explained yet; this margin had none in its runs.)
GROUP_MARGIN_S = 1.0
# A new customer's first relay waits, while its group is short, until the customer wrote nothing for
# MERGE_QUIET_S, and at most MERGE_HOLD_MAX_S after its first message (see merge_hold).
# The bot-wide window cannot wait for answers (its next slot is due before them): it keeps the time a call
# left, widened for a request that reaches Telegram late (10 calls in flight, a busy machine).
GLOBAL_MARGIN_S = 0.1
MERGE_QUIET_S = 20.0
MERGE_HOLD_MAX_S = 60.0
# A cosmetic call (a topic rename) only spends the first half of a group's minute: relays go first.
COSMETIC_SHARE = 0.5
_PRUNE_AT = 4096

COUNTED = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "sendPhoto",
        "sendVideo",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendContact",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "pinChatMessage",
    }
)


class NotYet(Exception):
    """A call that may not leave yet under Telegram's limits; ``wait`` is how many seconds until it may."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"over Telegram's send limits for {wait:.2f}s more")
        self.wait = wait


def counts(method: str) -> bool:
    """Return whether a Bot API method spends a message of Telegram's limits (sends, edits, topics)."""
    return method in COUNTED


class SendBudget:
    """Sliding windows for the bot, each private chat and each group, plus 429 pauses (one sender owns it)."""

    def __init__(self, limits: Limits | None = None, *, margin_s: float = MARGIN_S) -> None:
        self.limits = limits or Limits()
        self.margin_s = margin_s
        self.group_margin_s = GROUP_MARGIN_S if margin_s else 0.0
        self.global_margin_s = GLOBAL_MARGIN_S if margin_s else 0.0
        self._global: deque[float] = deque()
        self._private_last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._paused_until: dict[int, float] = {}
        self._global_paused_until = 0.0
        self._prune_at = _PRUNE_AT

    # what the sender asks ----------------------------------------------------------------------
    def wait(self, chat_id: int, now: float, *, cosmetic: bool = False) -> float:
        """Return the seconds before one counted call to ``chat_id`` may leave (0.0 = now)."""
        ready = max(self._paused_until.get(chat_id, 0.0), self._global_paused_until)
        if chat_id < 0:
            window = self._group(chat_id, now)
            allowed = self.limits.group_per_min * (COSMETIC_SHARE if cosmetic else 1.0)
            if allowed != float("inf") and len(window) >= allowed:
                ready = max(ready, window[len(window) - int(allowed)] + GROUP_WINDOW_S + self.group_margin_s)
        else:
            last = self._private_last.get(chat_id)
            if last is not None and self.limits.private_per_s != float("inf"):
                ready = max(ready, last + 1.0 / self.limits.private_per_s + self.margin_s)
        window = self._global
        while window and window[0] + GLOBAL_WINDOW_S + self.global_margin_s <= now:
            window.popleft()
        allowed_global = self.limits.global_per_s
        if allowed_global != float("inf") and len(window) >= allowed_global:
            ready = max(
                ready, window[len(window) - int(allowed_global)] + GLOBAL_WINDOW_S + self.global_margin_s
            )
        return max(0.0, ready - now)

    def take(self, chat_id: int, now: float) -> None:
        """Count one call to ``chat_id`` that leaves at ``now``."""
        self._global.append(now)
        if chat_id < 0:
            self._group(chat_id, now).append(now)
        else:
            self._private_last[chat_id] = now
            if len(self._private_last) > self._prune_at:  # forget quiet chats: memory stays flat
                cutoff = now - 60.0
                self._private_last = {c: t for c, t in self._private_last.items() if t > cutoff}
                self._paused_until = {c: t for c, t in self._paused_until.items() if t > now}
                self._prune_at = max(_PRUNE_AT, 2 * len(self._private_last))

    def reserve(self, chat_id: int, method: str, now: float, *, cosmetic: bool = False) -> float:
        """Take the slot for one call when it may go now and return 0.0; else return the seconds to wait.

        Calls that make no message (:func:`counts` is False) always go and are not counted.
        """
        if not counts(method):
            return 0.0
        wait = self.wait(chat_id, now, cosmetic=cosmetic)
        if wait <= 0.0:
            self.take(chat_id, now)
        return wait

    def answered(self, chat_id: int, left: float, now: float) -> None:
        """Move the slot of a call to private chat ``chat_id`` that left at ``left`` to ``now``, when Telegram
        answered it.

        Telegram counted the call at some moment between the two: from now on the chat's window counts it at
        the latest, so a request that reached Telegram late (a slow link, a busy machine) cannot make the
        chat's next message arrive too early. A group's and the bot-wide windows are not moved.
        """
        if chat_id > 0 and self._private_last.get(chat_id) == left:
            self._private_last[chat_id] = now

    def pause(self, chat_id: int | None, seconds: float, now: float) -> None:
        """Hold back ``chat_id`` (None: every chat) for ``seconds``, as a 429's ``retry_after`` asks."""
        until = now + max(0.0, seconds)
        if chat_id is None:
            self._global_paused_until = max(self._global_paused_until, until)
        else:
            self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0.0), until)

    def group_used(self, chat_id: int, now: float) -> int:
        """Return how many counted calls ``chat_id`` (a group) made in the last minute."""
        return len(self._group(chat_id, now))

    def group_free(self, chat_id: int, now: float) -> float:
        """Return how many more messages the group may take in its current minute (can be fractional)."""
        return self.limits.group_per_min - self.group_used(chat_id, now)

    def pressed(self, chat_id: int, now: float) -> bool:
        """Return whether a group has used half its minute (time to merge queued relays)."""
        return chat_id < 0 and self.group_used(chat_id, now) >= self.limits.group_per_min * COSMETIC_SHARE

    # internals -------------------------------------------------------------------------------------
    def _group(self, chat_id: int, now: float) -> deque[float]:
        window = self._groups.setdefault(chat_id, deque())
        # An entry leaves at exactly the time wait() names (the same sum, so floats round alike).
        while window and window[0] + GROUP_WINDOW_S + self.group_margin_s <= now:
            window.popleft()
        return window


def merge_hold(
    first_queued: float, last_queued: float, now: float, *, pressed: bool, new_customer: bool
) -> float:
    """Return how many more seconds a topic's first relay should wait for the customer's next messages.

    0.0 means send it now. It waits only for a ``new_customer`` (no topic yet, one spare at hand: the relay
    costs one group message, and so would each later one) while the group is ``pressed`` (short of
    budget): until the customer has written nothing for :data:`MERGE_QUIET_S` after ``last_queued``, and
    at most until :data:`MERGE_HOLD_MAX_S` after ``first_queued``. One merged relay then carries the
    burst. Times are timestamps in seconds.

    >>> merge_hold(100.0, 105.0, 110.0, pressed=True, new_customer=True)
    15.0
    >>> merge_hold(100.0, 105.0, 110.0, pressed=False, new_customer=True)
    0.0
    """
    if not (pressed and new_customer):
        return 0.0
    until = min(last_queued + MERGE_QUIET_S, first_queued + MERGE_HOLD_MAX_S)
    return max(0.0, until - now)
