"""A memo of a pure function: its values on the last ``size`` keys asked, the oldest asked dropped first.

The desk's cores are pure (same catalogue, same text, same answer), so remembering an answer is safe; a
new guard or classifier comes with a new memo. Thread-safe: the desk works on the storage thread, the
outbound guard on the event loop. A function that raises remembers nothing: the next call tries again.

Example::

    square = Memo(lambda n: n * n, size=2)
    square(3)   # 9, computed
    square(3)   # 9, remembered
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """``compute``'s values on the last ``size`` keys asked (thread-safe)."""

    def __init__(self, compute: Callable[[K], V], size: int) -> None:
        self.compute = compute
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        """Return ``compute(key)``, remembered: a key asked again moves to the newest end."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = self.compute(key)
        with self._lock:
            self._values[key] = value
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
