"""Which Chinese script a reply is written in: simplified, or traditional as the customer writes it.

``KEFU_REPLY_SCRIPT`` is one of :data:`REPLY_SCRIPTS`. ``auto`` follows the customer's last message:
a message that OpenCC's ``t2s`` changes is traditional and gets its reply through ``s2t``; any other
gets the simplified reply as written. ``traditional``/``hk``/``tw`` always convert (``s2t``/``s2hk``/
``s2tw``), ``simplified`` never does. Pure: the converters are built once, at first use.

>>> to_script("您好，很高兴为您服务！", reply_script_for("auto", "請問什麼時候發貨"))
'您好，很高興爲您服務！'
>>> reply_script_for("auto", "请问什么时候发货")
'simplified'
"""

from __future__ import annotations

from functools import cache

import opencc

__all__ = ["REPLY_SCRIPTS", "is_traditional", "reply_script_for", "to_script"]

# The settings' values; "auto" resolves to "simplified" or "traditional" per message.
REPLY_SCRIPTS: tuple[str, ...] = ("auto", "simplified", "traditional", "hk", "tw")
_CONFIGS: dict[str, str] = {"traditional": "s2t", "hk": "s2hk", "tw": "s2tw"}


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def is_traditional(text: str | None) -> bool:
    """Return whether ``text`` is written in traditional characters (``t2s`` changes it).

    >>> is_traditional("謝謝"), is_traditional("谢谢"), is_traditional("好的"), is_traditional(None)
    (True, False, False, False)
    """
    return bool(text) and _converter("t2s").convert(text) != text


def reply_script_for(setting: str, customer_text: str | None) -> str:
    """Return the script a reply is written in: ``simplified``, ``traditional``, ``hk`` or ``tw``.

    ``setting`` is ``KEFU_REPLY_SCRIPT``; for ``auto`` the customer's last message decides
    (``customer_text``, None for a message without text: simplified). ``ValueError`` for an unknown setting.
    """
    if setting not in REPLY_SCRIPTS:
        raise ValueError(f"unknown reply script {setting!r}; one of {', '.join(REPLY_SCRIPTS)}")
    if setting == "auto":
        return "traditional" if is_traditional(customer_text) else "simplified"
    return setting


def to_script(text: str, script: str) -> str:
    """Return ``text`` (a simplified reply) written in ``script`` (a value of :func:`reply_script_for`).

    >>> to_script("发货后一般2-4天送达", "tw"), to_script("发货", "simplified")
    ('發貨後一般2-4天送達', '发货')
    """
    if script == "simplified":
        return text
    try:
        config = _CONFIGS[script]
    except KeyError:
        raise ValueError(f"unknown reply script {script!r}") from None
    return _converter(config).convert(text)
