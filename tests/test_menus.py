"""Command menus: `kefu run` publishes the agents' commands to the staff chat and only /start to
customers' private chats (setMyCommands, scoped), against the fake Bot API server."""

from __future__ import annotations

import asyncio

from conftest import STAFF_CHAT_ID

from bot.desk.texts import COMMANDS
from bot.ops.runner import run_bot
from bot.ops.settings import load_settings
from bot.telegram.menus import CUSTOMER_COMMANDS, publish_menus


def _menus(fake) -> dict[str, list[str]]:
    """Return ``{scope description: [command, …]}`` of every setMyCommands call."""
    menus = {}
    for call in fake.calls("setMyCommands", ok=True):
        scope = call.params["scope"]
        where = scope["type"] + (f":{scope['chat_id']}" if "chat_id" in scope else "")
        menus[where] = [c["command"] for c in call.params["commands"]]
    return menus


async def test_kefu_run_publishes_scoped_menus_at_start(fake, db_path):
    settings = load_settings(
        bot_token=fake.token, api_server=fake.url, staff_chat_id=STAFF_CHAT_ID, db_path=db_path
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop=stop))
    async with asyncio.timeout(10):
        while not fake.calls("getUpdates"):
            await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert _menus(fake) == {
        "all_private_chats": ["start"],
        f"chat:{STAFF_CHAT_ID}": list(COMMANDS),
    }
    assert {"ban", "unban", "bans", "check", "r", "close"} <= set(COMMANDS)
    staff = next(c for c in fake.calls("setMyCommands") if c.params["scope"]["type"] == "chat")
    assert all(c["description"] for c in staff.params["commands"])


async def test_without_a_staff_chat_only_the_customer_menu(fake, db_path):
    bot = fake.bot()
    await publish_menus(bot, load_settings(bot_token=fake.token, db_path=db_path))
    assert _menus(fake) == {"all_private_chats": list(CUSTOMER_COMMANDS)}


async def test_a_refused_menu_is_logged_and_start_up_goes_on(fake, db_path, caplog):
    fake.fail_next("setMyCommands", 400, description="Bad Request: BOT_COMMAND_INVALID")
    bot = fake.bot()
    settings = load_settings(bot_token=fake.token, staff_chat_id=STAFF_CHAT_ID, db_path=db_path)
    await publish_menus(bot, settings)
    assert "could not set the command menu for all_private_chats" in caplog.text
    assert list(_menus(fake)) == [f"chat:{STAFF_CHAT_ID}"]
