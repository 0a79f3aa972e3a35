"""The bot's parts wired together once: :func:`build_stack` is used by ``kefu run``, the tests and the bench.

A :class:`Stack` is one shop's bot over one database: the storage, the Bot, the pure cores, the desk,
the outbox sender, the Dispatcher with every router, the inbox and the pump that stores and feeds
updates, and (as ``kefu run`` has it) the outbound guard on the Bot's session. Building it starts no
task and makes no network call; the runner starts the background work and closes it.

Example::

    stack = build_stack(settings, bot=fake.bot(), outbound=False)
    stack.pump.accept([update])
    await stack.pump.drain()
    await stack.sender.flush()
    stack.close()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot, Dispatcher

from bot.desk.cores import Cores
from bot.desk.customers import SupportDesk
from bot.ops.clock import utc_now
from bot.ops.settings import SenderSettings, Settings
from bot.store.sqlite import Storage, open_storage
from bot.telegram import outbound_guard
from bot.telegram.app import build_bot, build_dispatcher
from bot.telegram.inbox import Inbox, UpdatePump
from bot.telegram.outbound_guard import OutboundGuard
from bot.telegram.sender import Sender

__all__ = ["Stack", "build_stack"]


@dataclass
class Stack:
    """One bot process's long-lived objects, wired (see the module docstring)."""

    settings: Settings
    storage: Storage
    bot: Bot
    cores: Cores
    desk: SupportDesk
    sender: Sender
    dispatcher: Dispatcher
    inbox: Inbox
    pump: UpdatePump
    gate: OutboundGuard | None  # the outbound guard on the Bot's session (None when built without)

    def use_cores(self, cores: Cores) -> None:
        """Make ``cores`` the ones the desk and the outbound guard use from now on (a shop-folder reload)."""
        self.cores = cores
        self.desk.cores = cores
        if self.gate is not None:
            self.gate.checker = cores.check

    def close(self) -> None:
        """Close the database (the Bot's session is the caller's: it may outlive the stack)."""
        self.storage.close()


def build_stack(
    settings: Settings,
    *,
    cores: Cores | None = None,
    bot: Bot | None = None,
    storage: Storage | None = None,
    clock: Callable[[], datetime] | None = None,
    outbound: bool = True,
) -> Stack:
    """Return the wired :class:`Stack` for ``settings``.

    ``cores``: the guard, classifier, scripts, FAQ and policy (default: the installed ones, see
    :meth:`Cores.installed`). ``bot``: default :func:`~bot.telegram.app.build_bot`. ``storage``: default
    ``settings.db_path`` opened (and migrated). ``clock``: when handlers and the sender take an update
    to be handled (``kefu run`` passes the real one); None lets the desk decide each message as of its own
    date, as a replay of a fixed day in the tests does (the sender then reads the real clock).
    ``outbound``: install the outbound guard on the Bot's session, as ``kefu run`` does.
    """
    cores = cores or Cores.installed()
    storage = storage if storage is not None else open_storage(settings.db_path)
    bot = bot if bot is not None else build_bot(settings)
    # One chokepoint: every call to a customer is checked (with the desk's cores: one verdict memo).
    gate = outbound_guard.install(bot, storage, settings, cores=cores) if outbound else None
    desk = SupportDesk(storage, settings, cores=cores)
    sender = Sender(bot, storage, SenderSettings.of(settings), clock=clock or utc_now)  # what it reads
    desk.groups.budget = sender.relay_budget  # a new customer goes to the group with the most budget
    dispatcher = build_dispatcher(settings, storage, desk, sender, clock=clock)
    inbox = Inbox(storage)
    pump = UpdatePump(dispatcher, bot, inbox)
    return Stack(settings, storage, bot, cores, desk, sender, dispatcher, inbox, pump, gate)
