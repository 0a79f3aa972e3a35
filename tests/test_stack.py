"""One build_stack for the runner, the tests and the bench: the desk and the outbound guard share Cores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.desk.cores import Cores
from bot.ops.settings import DeskSettings, SenderSettings
from bot.ops.shop import use_shop_folder
from bot.ops.stack import build_stack
from guards import default_guard

TEXT = "您好,订单T20261123-0042已为您登记"
FAQ = '[[faq]]\nid = "ship"\nexamples = ["什么时候发货"]\nanswer = "亲，现货订单两天内发货。"\n'


class CountingGuard:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def check(self, text: str):
        self.texts.append(text)
        return default_guard().check(text)


async def test_the_desk_and_the_outbound_guard_check_with_the_same_cores(fake, settings) -> None:
    counting = CountingGuard()
    cores = replace(Cores.installed(), guard=counting)
    stack = build_stack(settings, bot=fake.bot(), cores=cores)
    try:
        assert stack.desk.cores is cores and stack.gate is not None
        assert stack.desk.cores.check(TEXT).allowed  # the desk, before queuing
        assert stack.gate.checker(TEXT).allowed  # the outbound guard: remembered
        assert counting.texts == [TEXT]
        assert stack.sender.settings == SenderSettings.of(settings)  # the sender gets what it reads
        assert stack.desk.settings == DeskSettings.of(settings)  # and so does the desk
    finally:
        stack.close()
        await stack.bot.session.close()


async def test_use_cores_swaps_the_desks_and_the_gates(fake, settings) -> None:
    stack = build_stack(settings, bot=fake.bot())
    try:
        reloaded = replace(stack.cores, guard=CountingGuard())
        stack.use_cores(reloaded)
        assert stack.cores is reloaded and stack.desk.cores is reloaded
        assert stack.gate is not None and stack.gate.checker == reloaded.check
    finally:
        stack.close()
        await stack.bot.session.close()


async def test_without_outbound_the_session_has_no_gate(fake, settings) -> None:
    stack = build_stack(settings, bot=fake.bot(), outbound=False)
    try:
        assert stack.gate is None
    finally:
        stack.close()
        await stack.bot.session.close()


def test_installed_cores_stay_the_same_until_a_shop_folder_is_installed(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "faq.toml").write_text(FAQ, encoding="utf-8")
    before = Cores.installed()
    assert Cores.installed() is before  # one value, one verdict memo
    try:
        use_shop_folder(folder)
        installed = Cores.installed()
        assert installed is not before and len(installed.faq) == 1
    finally:
        use_shop_folder(None)
    assert len(Cores.for_shop(folder).faq) == 1 and len(Cores.packaged().faq) == 0
