"""The command menus Telegram shows (``setMyCommands``), scoped by audience, published at start-up.

Agents see their commands in the staff chat only (``BotCommandScopeChat``); customers see only
``/start`` in private chats (``BotCommandScopeAllPrivateChats``), never a staff command.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.desk.texts import COMMANDS
from bot.ops.settings import Settings

__all__ = ["CUSTOMER_COMMANDS", "publish_menus"]

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = {"start": "开始咨询"}


async def publish_menus(bot: Bot, settings: Settings) -> None:
    """Set the customers' menu in private chats and the agents' menu in the staff chat.

    A failure is logged, not raised: the menus are a convenience, and the commands work without them.
    """
    menus: list[tuple[dict[str, str], BotCommandScopeAllPrivateChats | BotCommandScopeChat]] = [
        (CUSTOMER_COMMANDS, BotCommandScopeAllPrivateChats())
    ]
    for staff_chat_id in settings.staff_chat_ids:  # every staff group
        menus.append((COMMANDS, BotCommandScopeChat(chat_id=staff_chat_id)))
    for commands, scope in menus:
        try:
            await bot.set_my_commands(
                [BotCommand(command=name, description=text) for name, text in commands.items()], scope=scope
            )
        except Exception as exc:
            where = getattr(scope.type, "value", scope.type)
            log.warning("could not set the command menu for %s (%s: %s)", where, type(exc).__name__, exc)
