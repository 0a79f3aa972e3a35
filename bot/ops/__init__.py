"""Settings and operations: what ``kefu run`` needs around the bot.

``settings`` reads the KEFU_* environment (one narrow view per consumer); ``runner`` wires one stack
(storage, desk, sender, dispatcher) and runs it with polling or a webhook; ``shop`` loads the shop's
own folder; ``heartbeat``, ``diskspace``, ``memory``, ``logs``, ``clock``, ``proxy`` and ``http_input``
are the health checks, limits and plumbing of a long-running service.
"""
