"""/ban, /unban and /bans end to end: the bot long-polls the fake Bot API server (BotStack)."""

from __future__ import annotations

import pytest
from conftest import STAFF_CHAT_ID, TEST_TOKEN, BotStack, poll_until

from bot.desk.texts import TEXT_NO_BANS
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage

CUSTOMER = 8080
AGENT = 7


@pytest.fixture
def shop(db_path):
    """Settings of a shop open around the clock (every customer message gets an answer)."""
    return load_settings(
        bot_token=TEST_TOKEN,
        staff_chat_id=STAFF_CHAT_ID,
        shop_name="小米粒旗舰店",
        db_path=db_path,
        business_hours="00:00-24:00",
        send_limits="inf,inf,inf",
    )


def _not_polling(fake) -> list:
    return [c for c in fake.calls() if c.method != "getUpdates"]


async def _customer_says(stack: BotStack, text: str) -> int:
    update_id = stack.fake.push_update(stack.fake.text_update(text, user_id=CUSTOMER))
    await poll_until(stack, lambda: stack.status(update_id) == "done")
    return update_id


async def _agent_says(stack: BotStack, text: str, *, thread: int | None) -> str:
    """Send an agent's command in the staff chat (a topic, or General with None); return the bot's notice."""
    before = len(stack.fake.calls("sendMessage"))
    update = stack.fake.group_text_update(STAFF_CHAT_ID, text, user_id=AGENT, thread_id=thread)
    update_id = stack.fake.push_update(update)
    await poll_until(stack, lambda: stack.status(update_id) == "done")  # then the sender is flushed
    (notice,) = [c for c in stack.fake.calls("sendMessage")[before:] if c.params["chat_id"] == STAFF_CHAT_ID]
    return notice.params["text"]


def _answers_to_customer(fake) -> int:
    return len([c for c in fake.calls("sendMessage", ok=True) if c.params.get("chat_id") == CUSTOMER])


async def test_ban_stores_without_answer_or_relay_survives_restart_and_unban_restores(fake, shop):
    stack = BotStack(fake, shop)
    await _customer_says(stack, "你好")
    topic = stack.storage.customer(CUSTOMER).topic_id
    assert topic is not None and _answers_to_customer(fake) == 1

    notice = await _agent_says(stack, "/ban", thread=topic)
    assert notice == (
        f"🚫 已封禁客户 张三 @zhangsan（ID {CUSTOMER}）：此后的消息只保存，不自动回复，也不转到本话题。"
        "/unban 可解除。"
    )
    calls_before = len(_not_polling(fake))
    await _customer_says(stack, "在吗")
    assert _not_polling(fake)[calls_before:] == []  # neither answered nor relayed to the topic
    stored = [m.text for m in stack.storage.messages(CUSTOMER) if m.direction == "in"]
    assert stored == ["你好", "在吗"]
    edited_message_id = stack.storage.messages(CUSTOMER)[-1].telegram_message_id
    edit = stack.fake.push_update(stack.fake.edited_text_update(edited_message_id, "在吗?", user_id=CUSTOMER))
    await poll_until(stack, lambda: stack.status(edit) == "done")
    assert _not_polling(fake)[calls_before:] == []  # an edit is not relayed either
    reaction = stack.fake.push_update(stack.fake.reaction_update(edited_message_id, ["👎"], user_id=CUSTOMER))
    await poll_until(stack, lambda: stack.status(reaction) == "done")
    assert _not_polling(fake)[calls_before:] == []  # nor a reaction
    stack.close()

    restarted = BotStack(fake, shop)  # a new process over the same database
    calls_before = len(_not_polling(fake))
    await _customer_says(restarted, "人呢")
    assert _not_polling(fake)[calls_before:] == []
    assert [m.text for m in restarted.storage.messages(CUSTOMER) if m.direction == "in"][-1] == "人呢"

    listed = await _agent_says(restarted, "/bans", thread=None)  # the General topic
    assert listed.startswith("被封禁的客户（1 位）：\n• 张三 @zhangsan（ID 8080），")
    again = await _agent_says(restarted, "/ban", thread=topic)
    assert again.startswith(f"客户 张三 @zhangsan（ID {CUSTOMER}）自 ")
    assert again.endswith("起已被封禁。/unban 可解除。")

    lifted = await _agent_says(restarted, "/unban", thread=topic)
    assert lifted == (
        f"✅ 已解除对客户 张三 @zhangsan（ID {CUSTOMER}）的封禁：此后的消息照常自动回复，并转到本话题。"
    )
    answered = _answers_to_customer(fake)
    await _customer_says(restarted, "你好")
    assert _answers_to_customer(fake) == answered + 1
    assert await _agent_says(restarted, "/bans", thread=None) == TEXT_NO_BANS
    assert await _agent_says(restarted, "/unban", thread=topic) == (
        f"客户 张三 @zhangsan（ID {CUSTOMER}）没有被封禁，无需解除。"
    )
    restarted.close()


async def test_ban_outside_a_customer_topic_says_where_to_use_it(fake, shop):
    stack = BotStack(fake, shop)
    assert await _agent_says(stack, "/ban", thread=None) == "请在客户的话题里使用此命令"
    stack.close()


async def test_a_banned_customer_gets_no_busy_reply(fake, shop, db_path):
    from datetime import UTC, datetime, timedelta

    from bot.desk.customers import CustomerRef, SupportDesk

    storage = open_storage(db_path)
    desk = SupportDesk(storage, shop)
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    desk.on_customer_message(CustomerRef(CUSTOMER, CUSTOMER, "张三"), "我的订单怎么还没发货", at=at)
    storage.set_banned(CUSTOMER, at + timedelta(seconds=1), by=AGENT)
    assert desk.due_busy_replies(at + timedelta(minutes=10)) == []
    storage.close()
