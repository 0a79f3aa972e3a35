"""The one storage seam: the :class:`~bot.store.protocol.Store` the desk sees, and its SQLite home.

``protocol`` says what the desk may ask of storage, in typed records (``records``); ``sqlite`` is the
implementation over sqlite-utils (every SQL statement of the bot, the inbox, the board and the outbox
included), on the tables and migrations of ``schema``; ``thread`` runs it off the event loop; ``files``
watches that the database file is still the one that was opened. A PostgreSQL store plugs in by
satisfying the protocol.
"""
