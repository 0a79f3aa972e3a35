"""A graceful stop (SIGTERM) uses its grace period to send what it can (issue 11, item 8)."""

from __future__ import annotations

import asyncio

from bot.ops.clock import utc_now
from bot.ops.runner import run_bot
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage

CUSTOMER = 6262


async def test_a_stop_keeps_sending_queued_replies_for_its_grace_period(fake, db_path):
    # Telegram's own pace for a private chat (one message a second): three replies need about two seconds.
    settings = load_settings(
        bot_token=fake.token, api_server=fake.url, db_path=db_path, send_limits="30,1,20"
    )
    storage = open_storage(db_path)
    texts = ["您好,已收到", "正在为您查询", "订单明天发货"]
    for text in texts:
        storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": text}, utc_now())
    storage.close()
    stop = asyncio.Event()
    stop.set()  # SIGTERM right at start: everything queued must still go within the grace period
    await asyncio.wait_for(run_bot(settings, stop=stop), 30)
    sent = [c.params["text"] for c in fake.calls("sendMessage", ok=True) if c.params["chat_id"] == CUSTOMER]
    assert sent == texts
    storage = open_storage(db_path)
    assert storage.outbox("pending") == []
    storage.close()


async def test_what_the_grace_period_cannot_send_stays_queued_and_is_logged(fake, db_path, caplog):
    settings = load_settings(
        bot_token=fake.token, api_server=fake.url, db_path=db_path, send_limits="30,1,20"
    )
    storage = open_storage(db_path)
    for text in ("一", "二", "三", "四", "五"):
        storage.enqueue(CUSTOMER, "sendMessage", {"chat_id": CUSTOMER, "text": text}, utc_now())
    storage.close()
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(run_bot(settings, stop=stop, grace_s=0.2), 30)
    storage = open_storage(db_path)
    left = len(storage.outbox("pending"))
    storage.close()
    assert left > 0 and f"{left} message(s) still queued" in caplog.text
