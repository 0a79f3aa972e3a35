"""``python -m bot`` is ``kefu``."""

from bot.cli import main

main()
