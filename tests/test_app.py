"""The Bot kefu builds: its session keeps aiogram's response models alive between calls."""

from __future__ import annotations

import gc

from aiogram.types import User
from fakeapi import FakeTelegram

from bot.ops.settings import load_settings
from bot.telegram import app


async def test_response_models_are_built_once_and_kept(db_path):
    async with FakeTelegram() as fake:
        settings = load_settings(bot_token=fake.token, api_server=fake.url, db_path=db_path)
        bot = app.build_bot(settings)
        try:
            me = await bot.get_me()
            assert isinstance(me, User)
            pinned = app._RESPONSE_TYPES[User]
            gc.collect()
            await bot.get_me()
            assert app._RESPONSE_TYPES[User] is pinned  # the same class: no second schema build
        finally:
            await bot.session.close()


def test_the_dispatcher_keeps_no_per_chat_state_in_memory(settings, db_path):
    from aiogram.fsm.middleware import FSMContextMiddleware

    from bot.desk.customers import SupportDesk
    from bot.store.sqlite import open_storage
    from bot.telegram.sender import Sender

    storage = open_storage(db_path)
    bot = app.build_bot(settings)
    dp = app.build_dispatcher(
        settings, storage, SupportDesk(storage, settings), Sender(bot, storage, settings)
    )
    outer = [m for observer in dp.observers.values() for m in observer.outer_middleware]
    assert not any(isinstance(m, FSMContextMiddleware) for m in outer)
    storage.close()
