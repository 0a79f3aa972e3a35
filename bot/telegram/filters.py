"""Magic filters that run on the event loop.

aiogram runs every synchronous filter through ``asyncio.to_thread``, and a bare magic filter
(``F.chat.type == "private"``) is synchronous: each check was a hop to a worker thread and back,
~0.3 ms of CPU per update measured (more than the filter's whole job). :class:`Inline` wraps the
same magic filter in an ``async`` :class:`aiogram.filters.Filter`, which aiogram awaits directly.
:class:`Where` does the same for a plain function: the filters every customer message passes are plain
attribute tests, and a magic filter resolves each through a chain of operation objects (about a tenth of
the event loop's own work per update in a profile of the bot bench's flood).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.filters import Filter
from aiogram.utils.magic_filter import MagicFilter

__all__ = ["Inline", "Where"]


class Inline(Filter):
    """A magic filter resolved against the event itself, on the event loop (no worker thread)."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: Any) -> Any:
        """Return the magic filter's result for ``event`` (falsy: the handler is skipped)."""
        return self.magic.resolve(event)


class Where(Filter):
    """A plain predicate on the event, on the event loop (no worker thread): ``Where(is_private)``."""

    def __init__(self, predicate: Callable[[Any], Any]) -> None:
        self.predicate = predicate

    async def __call__(self, event: Any) -> Any:
        """Return ``predicate(event)`` (falsy: the handler is skipped)."""
        return self.predicate(event)
