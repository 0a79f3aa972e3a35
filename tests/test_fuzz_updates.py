"""Random and hostile updates thrown at the real dispatcher: nothing escapes, every message accounted for."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.desk.customers import SupportDesk
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.app import build_dispatcher
from bot.telegram.inbox import Inbox, UpdatePump
from bot.telegram.sender import Sender

STATUSES = {"done", "ignored", "malformed", "failed"}
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"

texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=ZERO_WIDTH, min_size=1, max_size=20),
    st.text(alphabet="😀🙏👍🔥💢🤬", min_size=1, max_size=30),
    st.sampled_from(["你好", "我要投诉!!", "滚", "转人工", "謝謝", "", " ", "好" * 4096, "a" * 5000]),
)
entities = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["bold", "url", "mention", "bot_command", "spoiler", "no_such_type"]),
            "offset": st.integers(-10, 10_000),
            "length": st.integers(-5, 10_000),
        }
    ),
    max_size=4,
)
users = st.fixed_dictionaries(
    {"id": st.integers(1, 50), "is_bot": st.booleans(), "first_name": st.text(max_size=20)},
    optional={"username": st.text(max_size=10)},
)
chats = st.one_of(
    st.builds(lambda u: {"id": u, "type": "private", "first_name": "客户"}, st.integers(1, 50)),
    st.just({"id": -1001234567890, "type": "supergroup", "title": "staff", "is_forum": True}),
    st.builds(lambda i: {"id": i, "type": "group", "title": "random"}, st.integers(-999, -2)),
)
messages = st.fixed_dictionaries(
    {"message_id": st.integers(1, 10**6), "date": st.integers(1_700_000_000, 1_900_000_000), "chat": chats},
    optional={
        "from": users,
        "text": texts,
        "caption": texts,
        "entities": entities,
        "sticker": st.just(
            {
                "file_id": "s",
                "file_unique_id": "u",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        ),
        "message_thread_id": st.integers(1, 500),
        "edit_date": st.integers(1_700_000_000, 1_900_000_000),
    },
)
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.builds(lambda m: {"message": m}, messages),
    st.builds(lambda m: {"edited_message": m}, messages),
    st.builds(
        lambda k, v: {k: v},
        st.sampled_from(["message", "callback_query", "my_chat_member", "novel_type"]),
        junk,
    ),
    st.builds(lambda m: {"message": {**m, "chat": "not a chat"}}, messages),
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    config = load_settings(
        bot_token="123456:FUZZ-token-never-logged-0123456789abcdef",
        staff_chat_id=-1001234567890,
        db_path=path,
        business_hours="00:00-24:00",
    )
    loop = asyncio.new_event_loop()
    storage = open_storage(path)
    # Nothing answers on port 9: a handler that calls the API directly fails fast and is recorded.
    session = AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"))
    bot = Bot(config.bot_token.get_secret_value(), session=session)
    desk = SupportDesk(storage, config)
    dp = build_dispatcher(config, storage, desk, Sender(bot, storage, config))
    pump = UpdatePump(dp, bot, Inbox(storage))
    yield loop, pump, storage
    loop.run_until_complete(bot.session.close())
    loop.close()
    storage.close()


_ids = iter(range(1, 10**9))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_no_exception_escapes_and_every_message_is_accounted_for(rig, body: dict[str, Any]) -> None:
    loop, pump, storage = rig
    raw = {"update_id": next(_ids), **body}
    json.dumps(raw)  # it is what Telegram could send: JSON

    async def deliver() -> int:
        accepted = pump.accept([raw])
        await pump.drain()
        return accepted

    assert loop.run_until_complete(deliver()) == 1
    status = storage.db.execute(
        "SELECT status FROM updates WHERE update_id = ?", [raw["update_id"]]
    ).fetchone()[0]
    assert status in STATUSES
    message = body.get("message")
    if status == "done" and isinstance(message, dict) and message["chat"]["type"] == "private":
        row = storage.db.execute(
            "SELECT count(*) FROM messages"
            " WHERE chat_id = ? AND telegram_message_id = ? AND direction = 'in'",
            [message["chat"]["id"], message["message_id"]],
        ).fetchone()
        assert row[0] >= 1, "a handled private message must be stored"


def test_every_fuzzed_update_was_stored(rig) -> None:
    _, _, storage = rig
    pending = storage.db.execute("SELECT count(*) FROM updates WHERE status = 'pending'").fetchone()[0]
    assert pending == 0


def test_the_fuzzing_reached_the_handlers(rig) -> None:
    """Guard against a fuzz that only ever produces rejected junk."""
    _, _, storage = rig
    counts = dict(storage.db.execute("SELECT status, count(*) FROM updates GROUP BY status").fetchall())
    assert counts.get("done", 0) >= 20 and counts.get("malformed", 0) >= 5, counts
