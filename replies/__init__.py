"""The documented reply scripts, the intent router that picks one, and the business-hours clock.

Pure: no Telegram, no database, no clock; the data files are read once at first use.

>>> from replies import classify, render, script_for
>>> intent = classify("你们网站付款安全吗")
>>> intent.key, script_for(intent.key)
('security', 'security')
"""

from replies.calendar import festival
from replies.catalogue import (
    MissingValue,
    Script,
    ScriptCatalogue,
    ScriptError,
    load_scripts,
    render,
    script_for,
)
from replies.classifier import classify
from replies.router import INTENT_KEYS, Intent, IntentError, load_router
from replies.schedule import Schedule, reopen_text

__all__ = [
    "INTENT_KEYS",
    "Intent",
    "IntentError",
    "MissingValue",
    "Schedule",
    "Script",
    "ScriptCatalogue",
    "ScriptError",
    "classify",
    "festival",
    "load_router",
    "load_scripts",
    "render",
    "reopen_text",
    "script_for",
]
