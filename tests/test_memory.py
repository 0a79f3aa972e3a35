"""Heap trimming: available on glibc (this machine and the container), harmless elsewhere."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.ops import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trim_heap_on_glibc() -> None:
    assert memory.trim_heap() is True


def test_without_malloc_trim_it_does_nothing() -> None:
    def no_trim() -> None:
        return None

    assert memory.trim_heap(find=no_trim) is False
    asyncio.run(asyncio.wait_for(memory.run_heap_trimmer(every_s=0.01, find=no_trim), 1))  # returns at once


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
async def test_the_trimmer_runs_until_cancelled() -> None:
    calls = []
    task = asyncio.create_task(memory.run_heap_trimmer(every_s=0.01, trim=lambda: calls.append(1) or True))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(calls) >= 3
