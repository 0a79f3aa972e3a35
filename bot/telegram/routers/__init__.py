"""All routers of the bot, gathered in one place in a fixed order."""

from __future__ import annotations

from aiogram import Router

__all__ = ["setup_routers"]


def setup_routers() -> Router:
    """Return a new root router including every audience's router, in the order they must be tried."""
    from bot.telegram.routers import agents, chat_events, customers

    root = Router(name="kefu")
    # 1. customers: private chats only (a customer can never reach staff commands).
    root.include_router(customers.build_router())
    # 2. chat events: a customer blocking the bot, reactions, topics an admin closed (before the agents'
    #    catch-all, which would otherwise take the staff chat's topic-closed service messages).
    root.include_router(chat_events.build_router())
    # 3. agents: the staff chat only, people only (and only KEFU_AGENT_IDS when set); others are ignored.
    root.include_router(agents.build_router())
    # 4. last: a button press nobody took (not an agent, an unknown button) still gets its answer.
    root.include_router(chat_events.build_last_router())
    return root
