"""Reloading the shop folder: SIGHUP (``systemctl reload kefu``) swaps it in, a broken edit keeps the old."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from bot.ops.runner import reload_shop, run_bot
from bot.ops.settings import load_settings
from bot.ops.shop import use_shop_folder
from replies.faq import default_faq

CUSTOMER = 4242
FAQ = '[[faq]]\nid = "{id}"\nexamples = ["什么时候发货"]\nanswer = "{answer}"\n'
FIRST = "亲，现货订单两天内发货。"
SECOND = "亲，现货订单当天发货。"


async def _until(condition, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


@pytest.fixture
def shop_dir(tmp_path: Path):
    folder = tmp_path / "shop"
    folder.mkdir()
    yield folder
    use_shop_folder(None)


def test_reload_swaps_and_a_broken_edit_keeps_the_old_catalogue(shop_dir: Path, settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.ops.runner")
    shop = settings.model_copy(update={"shop_dir": shop_dir})
    (shop_dir / "faq.toml").write_text(FAQ.format(id="ship", answer=FIRST), encoding="utf-8")
    assert reload_shop(shop) and default_faq().match("什么时候发货").faq.answer == FIRST
    (shop_dir / "faq.toml").write_text('[[faq]]\nid = "ship"\n', encoding="utf-8")  # a broken edit
    caplog.clear()
    assert not reload_shop(shop)
    assert default_faq().match("什么时候发货").faq.answer == FIRST
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "\n" not in error.getMessage() and "faq.toml: faq 'ship': field 'examples'" in error.getMessage()


async def test_sighup_reloads_the_shop_folder_while_the_bot_runs(fake, db_path, shop_dir: Path, caplog):
    caplog.set_level(logging.INFO, logger="bot.ops.runner")
    (shop_dir / "faq.toml").write_text(FAQ.format(id="ship", answer=FIRST), encoding="utf-8")
    settings = load_settings(
        bot_token=fake.token,
        api_server=fake.url,
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
        shop_dir=shop_dir,
    )
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_bot(settings, stop=stop))

    def answers() -> list[str]:
        sent = fake.calls("sendMessage", ok=True)
        return [c.params["text"] for c in sent if c.params["chat_id"] == CUSTOMER]

    await _until(lambda: fake.calls("getUpdates"))
    fake.push_update(fake.text_update("什么时候发货", user_id=CUSTOMER))
    await _until(lambda: FIRST in answers())
    (shop_dir / "faq.toml").write_text(FAQ.format(id="ship", answer=SECOND), encoding="utf-8")
    os.kill(os.getpid(), signal.SIGHUP)  # what `systemctl reload kefu` (ExecReload) sends
    await _until(lambda: "KEFU_SHOP_DIR reloaded" in caplog.text)
    fake.push_update(fake.text_update("什么时候发货", user_id=CUSTOMER))
    await _until(lambda: SECOND in answers())
    (shop_dir / "faq.toml").write_text("[[faq]\n", encoding="utf-8")  # broken: the old catalogue stays
    os.kill(os.getpid(), signal.SIGHUP)
    await _until(lambda: "reload of KEFU_SHOP_DIR failed" in caplog.text)
    assert not bot_task.done()
    fake.push_update(fake.text_update("什么时候发货", user_id=CUSTOMER))
    await _until(lambda: answers().count(SECOND) == 2)
    stop.set()
    await asyncio.wait_for(bot_task, 5)
