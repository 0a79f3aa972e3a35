"""Settings from the environment (prefix ``KEFU_``) and an optional ``.env`` file.

Build them in ``main()`` with :func:`load_settings` and pass them on; nothing here runs at import.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, fields
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.ops.limits import Limits
from bot.ops.proxy import Proxy, check_proxy_url, resolve_proxy
from replies.schedule import Schedule

__all__ = [
    "ConfigError",
    "DeskSettings",
    "SenderSettings",
    "Settings",
    "load_settings",
    "parse_business_hours",
]

TELEGRAM_API_SERVER = "https://api.telegram.org"
SEND_CONCURRENCY = 10  # calls in flight: ~30/s reached at a 150-300 ms round trip
SPARE_TOPICS = 30  # spare forum topics kept ready per staff group (KEFU_SPARE_TOPICS)
MAX_SPARE_TOPICS = 500
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The only ports Telegram posts webhook updates to (Bot API, setWebhook).
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TIME_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ConfigError(Exception):
    """A setting has a wrong value; the message is one line naming the variable."""


def parse_business_hours(value: str) -> tuple[tuple[time, time], ...]:
    """Return the opening windows of ``"08:00-12:00,14:00-18:00"`` as sorted ``(start, end)`` pairs.

    A window may cross midnight (``"22:00-02:00"``); ``24:00`` is accepted as an end.
    Raises ``ValueError`` for a malformed, empty, zero-length or overlapping range.
    """
    windows: list[tuple[time, time]] = []
    for part in value.split(","):
        if not part.strip():
            continue
        match = _TIME_RANGE.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not a range like 08:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{part.strip()!r} has an impossible time")
        start = time(h1, m1)
        end = time(0, 0) if h2 == 24 else time(h2, m2)
        if start == end and not (h2 == 24 and start == time(0)):  # 00:00-24:00 is the whole day
            raise ValueError(f"{part.strip()!r} is empty")
        windows.append((start, end))
    if not windows:
        raise ValueError("no opening window given")
    windows.sort()
    if _overlapping(windows):
        raise ValueError("opening windows overlap")
    return tuple(windows)


def _overlapping(windows: list[tuple[time, time]]) -> bool:
    """Return True when two windows overlap, on one day or across midnight into the next day's."""
    day = 24 * 60
    spans = []
    for start, end in windows:
        begin = start.hour * 60 + start.minute
        finish = end.hour * 60 + end.minute
        if finish <= begin:  # crosses midnight (or 00:00-24:00)
            finish += day
        spans += [(begin, finish), (begin + day, finish + day)]  # today's and tomorrow's
    spans.sort()
    return any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def parse_staff_chats(value: Any) -> tuple[int, ...]:
    """Return the staff supergroup ids of ``KEFU_STAFF_CHAT_ID``: one id or a comma-separated list.

    >>> parse_staff_chats("-1001, -1002")
    (-1001, -1002)

    Raises ``ValueError`` naming the variable and the bad part, or a repeated group.
    """
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    parts = _split(value) if isinstance(value, str) else [str(v) for v in value]
    bad = [p for p in parts if not re.fullmatch(r"\s*-?\d+\s*", str(p))]
    if bad:
        raise ValueError(
            f"KEFU_STAFF_CHAT_ID: {bad[0]!r} is not a numeric chat id (e.g. -1001234567890, or a "
            "comma-separated list of them)"
        )
    chats = tuple(int(p) for p in parts)
    if len(set(chats)) != len(chats):
        raise ValueError(f"KEFU_STAFF_CHAT_ID: {value!r} names a group twice")
    return chats


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return value


class Settings(BaseSettings):
    """Every ``KEFU_*`` setting, validated; a wrong value never reaches the bot."""

    model_config = SettingsConfigDict(
        env_prefix="KEFU_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr | None = None
    # KEFU_STAFF_CHAT_ID is one staff supergroup or a comma-separated list of them: ``staff_chat_id`` is
    # the first (the primary), ``staff_chat_ids`` all of them in order.
    staff_chat_id: int | None = None
    _staff_chat_ids: tuple[int, ...] = PrivateAttr(default=())
    shop_name: str = ""  # unset: the scripts leave the name out (「您好，很高兴为您服务！」)
    # The shop's own folder: banned.toml (extra banned phrasings and allowed phrases) and later more.
    shop_dir: Path | None = None
    # The script of the bot's replies: auto (as the customer's last message), simplified, traditional, hk, tw.
    reply_script: Literal["auto", "simplified", "traditional", "hk", "tw"] = "auto"
    timezone: str = "Asia/Shanghai"
    business_hours: Annotated[tuple[tuple[time, time], ...], NoDecode] = parse_business_hours(
        "08:00-12:00,14:00-18:00"
    )
    working_days: Annotated[frozenset[int], NoDecode] = frozenset(range(7))
    closed_on_holidays: bool = False
    closed_dates: Annotated[frozenset[date], NoDecode] = frozenset()
    open_dates: Annotated[frozenset[date], NoDecode] = frozenset()
    db_path: Path = Path("kefu.db")
    api_server: str = TELEGRAM_API_SERVER
    # http:// or socks5:// proxy for every Bot API call; unset = HTTPS_PROXY (see bot.ops.proxy), else direct.
    proxy: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=1, le=65535)
    agent_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # The platforms the shop sells on: a message naming one is never out of scope.
    shop_platforms: Annotated[tuple[str, ...], NoDecode] = ("淘宝", "天猫", "京东", "拼多多", "抖音")
    busy_reply_after_s: float = Field(default=60, ge=0)
    api_token: SecretStr | None = None
    send_limits: Annotated[tuple[float, float, float], NoDecode] = (30.0, 1.0, 20.0)
    # Bot API calls in flight at once, never more than one per chat. Telegram has no idempotency key: a
    # crash can repeat each call that Telegram confirmed but the database had not yet recorded, so a crash
    # repeats at most one message per chat and at most this many in all (1: one per crash, as before).
    send_concurrency: int = Field(default=SEND_CONCURRENCY, ge=1, le=100)
    # Spare forum topics kept ready in each staff group, made in quiet time (half a group's minute left):
    # at peak a new customer then costs its group one message (the relay), not two. 0 = none.
    spare_topics: int = SPARE_TOPICS
    # Days a handled raw update is kept (its message is in the messages table for good); 0 = forever.
    keep_updates_days: int = Field(default=30, ge=0)

    @field_validator("bot_token", "webhook_secret", "api_token", "webhook_url", "proxy", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # The value is never echoed, not even in part: it is the bot's only credential.
        if value is not None and not _TOKEN_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "not a bot token: digits, a colon, then letters, digits, _ or - (as @BotFather gives it)"
            )
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _staff_chats(cls, data: Any, handler: Any) -> Any:
        """Split KEFU_STAFF_CHAT_ID into the primary group and the list of all staff groups."""
        chats: tuple[int, ...] = ()
        if isinstance(data, dict) and data.get("staff_chat_id") is not None:
            chats = parse_staff_chats(data["staff_chat_id"])
            data = {**data, "staff_chat_id": chats[0] if chats else None}
        model = handler(data)
        model.__pydantic_private__["_staff_chat_ids"] = chats
        return model

    @property
    def staff_chat_ids(self) -> tuple[int, ...]:
        """Return every staff supergroup, the primary first (empty when there is none)."""
        chats = self._staff_chat_ids
        if self.staff_chat_id is None:
            return ()
        return chats if chats and chats[0] == self.staff_chat_id else (self.staff_chat_id,)

    @field_validator("spare_topics")
    @classmethod
    def _spare_topics_range(cls, value: int) -> int:
        if not 0 <= value <= MAX_SPARE_TOPICS:
            raise ValueError(
                f"{value} spare topics per staff group: give 0 (none) to {MAX_SPARE_TOPICS}; each is made in "
                "quiet time, about 10 a minute per group"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("business_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        return parse_business_hours(value) if isinstance(value, str) else value

    @field_validator("working_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        days: set[int] = set()
        for part in _split(value):
            bounds = [p.strip().lower()[:3] for p in part.split("-")]
            if len(bounds) > 2 or any(b not in _WEEKDAYS for b in bounds):
                raise ValueError(f"{part!r} is not a weekday or range like mon-fri")
            first, last = _WEEKDAYS.index(bounds[0]), _WEEKDAYS.index(bounds[-1])
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.update(span)
        if not days:
            raise ValueError("no working day given")
        return frozenset(days)

    @field_validator("closed_dates", "open_dates", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        try:
            return (
                frozenset(date.fromisoformat(p) for p in _split(value)) if isinstance(value, str) else value
            )
        except ValueError:
            raise ValueError(f"{value!r} is not a list of dates like 2026-12-24,2026-12-31") from None

    @field_validator("shop_platforms", mode="before")
    @classmethod
    def _platforms(cls, value: Any) -> Any:
        return tuple(_split(value)) if isinstance(value, str) else value

    @field_validator("agent_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = _split(value)
            bad = [p for p in parts if not re.fullmatch(r"\d+", p)]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a numeric Telegram user id")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("send_limits", mode="before")
    @classmethod
    def _limits(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = _split(value)
        try:
            numbers = tuple(float(p) for p in parts)
        except ValueError:
            numbers = ()
        if len(numbers) != 3 or any(n <= 0 for n in numbers):
            raise ValueError(f"{value!r} is not 'per-bot/s,per-private-chat/s,per-group/min' like 30,1,20")
        return numbers

    @field_validator("api_server", "webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        try:
            _ = urlsplit(value or "").port
        except ValueError:
            raise ValueError(f"{value!r} has an impossible port (1-65535)") from None
        return value.rstrip("/") if value else value

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        return None if value is None else check_proxy_url(value)

    @model_validator(mode="after")
    def _usable_https_proxy(self) -> Settings:
        self.bot_api_proxy  # noqa: B018 - a malformed HTTPS_PROXY stops start-up here, naming it
        return self

    @model_validator(mode="after")
    def _open_or_closed(self) -> Settings:
        both = sorted(self.open_dates & self.closed_dates)
        if both:
            raise ValueError(f"KEFU_OPEN_DATES: {both[0]} is also in KEFU_CLOSED_DATES")
        return self

    @field_validator("webhook_url")
    @classmethod
    def _telegram_posts_there(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        port = parts.port
        if parts.scheme != "https":
            raise ValueError(f"{value!r} must be https: Telegram posts updates over TLS only")
        if port is not None and port not in WEBHOOK_PORTS:
            raise ValueError(f"port {port} is not one Telegram posts to (443, 80, 88 or 8443)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # The value is never echoed: a wrong one may still be a real secret pasted on the wrong line.
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule for secret_token)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            # Without it anyone who finds the URL could post forged updates.
            raise ValueError("KEFU_WEBHOOK_SECRET: required when KEFU_WEBHOOK_URL is set")
        return self

    @property
    def bot_api_proxy(self) -> Proxy | None:
        """Return the proxy for Bot API calls (KEFU_PROXY, else HTTPS_PROXY for https), or None."""
        return resolve_proxy(self.proxy, self.api_server, os.environ)

    @property
    def limits(self) -> Limits:
        """Return the send limits: messages per second for the bot and a private chat, per minute a group."""
        return Limits(*self.send_limits)

    @property
    def zone(self) -> ZoneInfo:
        """Return the shop's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def business_hours_text(self) -> str:
        """Return the opening days and windows as customers read them (``Schedule.hours_text``)."""
        return Schedule.from_settings(self).hours_text


def _fields_of(view: type, settings: Settings, **derived: Any) -> dict[str, Any]:
    """Return the values of a settings view's fields: ``derived`` ones as given, the others read from
    ``settings`` under the same name (a view adds no name of its own)."""
    return {f.name: derived[f.name] if f.name in derived else getattr(settings, f.name) for f in fields(view)}


@dataclass(frozen=True)
class SenderSettings:
    """What the outbox sender reads of the settings, and nothing else (:meth:`SenderSettings.of`)."""

    limits: Limits  # KEFU_SEND_LIMITS
    send_concurrency: int  # KEFU_SEND_CONCURRENCY
    staff_chat_ids: tuple[int, ...]  # KEFU_STAFF_CHAT_ID, every group
    staff_chat_id: int | None  # the primary staff group
    zone: ZoneInfo  # KEFU_TIMEZONE: the time stamped on merged relays
    spare_topics: int = 0  # KEFU_SPARE_TOPICS: spare forum topics kept ready per staff group

    @classmethod
    def of(cls, settings: Settings | SenderSettings) -> SenderSettings:
        """Return the sender's view of ``settings`` (``settings`` itself when it is one already)."""
        if isinstance(settings, SenderSettings):
            return settings
        return cls(**_fields_of(cls, settings))


@dataclass(frozen=True)
class DeskSettings:
    """What the support desk (customers' and agents' side) reads of the settings (:meth:`DeskSettings.of`)."""

    shop_name: str  # KEFU_SHOP_NAME, filled into the scripts
    shop_platforms: tuple[str, ...]  # KEFU_SHOP_PLATFORMS, for the classifier
    reply_script: str  # KEFU_REPLY_SCRIPT
    busy_reply_after_s: float  # KEFU_BUSY_REPLY_AFTER_S
    staff_chat_ids: tuple[int, ...]  # KEFU_STAFF_CHAT_ID, every group
    staff_chat_id: int | None  # the primary staff group
    zone: ZoneInfo  # KEFU_TIMEZONE
    schedule: Schedule  # the business hours, working days and holidays

    @classmethod
    def of(cls, settings: Settings | DeskSettings) -> DeskSettings:
        """Return the desk's view of ``settings`` (``settings`` itself when it is one already)."""
        if isinstance(settings, DeskSettings):
            return settings
        return cls(**_fields_of(cls, settings, schedule=Schedule.from_settings(settings)))


def load_settings(**overrides: Any) -> Settings:
    """Return validated settings from the environment, ``.env`` and ``overrides``.

    Raises :class:`ConfigError` with one line naming the variable, e.g.
    ``KEFU_TIMEZONE: unknown time zone 'Mars/Base' (e.g. Asia/Shanghai)``.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # a rule across settings names its variables itself
            raise ConfigError(message) from None
        name = "KEFU_" + str(error["loc"][0]).upper()
        raw = error.get("input")
        if error["type"] in {"int_parsing", "float_parsing", "bool_parsing"}:
            message = f"{raw!r} is not valid: {message}"
        raise ConfigError(f"{name}: {message}") from None
