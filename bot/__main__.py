"""``python -m bot`` is ``kefu``."""

from bot.commands.cli import main

main()
