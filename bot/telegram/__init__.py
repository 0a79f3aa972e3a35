"""The Telegram adapter: everything that speaks the Bot API and nothing that decides.

``app`` builds the dispatcher from the routers (one per audience: customers, agents, chat events),
their filters and middlewares; ``inbox``, ``polling`` and ``webhook`` take updates in and store each
before it is handled; ``sender`` takes calls out of the outbox within Telegram's limits (``budget``
predicts :mod:`bot.ops.limits`) and ``outbound_guard`` refuses any call to a customer the guard has
not passed. ``relay``, ``staffgroups``, ``buttons``, ``callbacks``, ``menus``, ``kinds`` and
``startup`` are the Telegram details those need. The support-desk decisions live in :mod:`bot.desk`
and :mod:`replies.policy`.
"""
