"""Settings and operations: what ``kefu run`` needs around the bot.

``settings`` reads the KEFU_* environment (one narrow view per consumer); ``stack`` wires one bot
(storage, cores, desk, sender, dispatcher, inbox) for the runner, the tests and the bench; ``runner``
runs it with polling or a webhook; ``shop`` loads the shop's own folder; ``limits`` holds Telegram's send
limits; ``heartbeat``, ``diskspace``, ``memory``, ``logs``, ``clock``, ``proxy`` and ``http_input`` are
the health checks, limits and plumbing of a long-running service.
"""
