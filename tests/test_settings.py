"""Settings: every variable parsed from the environment, every bad value rejected in one clear line."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from bot.ops.settings import ConfigError, load_settings, parse_business_hours

ROOT = Path(__file__).resolve().parent.parent


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.staff_chat_id is None
    assert settings.shop_name == ""
    assert settings.timezone == "Asia/Shanghai"
    assert settings.business_hours == ((time(8), time(12)), (time(14), time(18)))
    assert settings.working_days == frozenset(range(7))
    assert settings.closed_on_holidays is False
    assert settings.closed_dates == frozenset()
    assert settings.db_path == Path("kefu.db")
    assert settings.api_server == "https://api.telegram.org"
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert settings.agent_ids == frozenset()
    assert settings.busy_reply_after_s == 60
    assert settings.send_concurrency == 10  # never more than one per chat
    assert settings.keep_updates_days == 30


def test_every_variable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "KEFU_BOT_TOKEN": "42:secret",
        "KEFU_STAFF_CHAT_ID": "-1009876543210",
        "KEFU_SHOP_NAME": "小米粒旗舰店",
        "KEFU_TIMEZONE": "Europe/Berlin",
        "KEFU_BUSINESS_HOURS": "09:30-12:00, 13:00-21:00",
        "KEFU_WORKING_DAYS": "mon-fri,sun",
        "KEFU_CLOSED_ON_HOLIDAYS": "true",
        "KEFU_CLOSED_DATES": "2026-12-24,2026-12-31",
        "KEFU_DB_PATH": "/var/lib/kefu/kefu.db",
        "KEFU_API_SERVER": "http://127.0.0.1:8081/",
        "KEFU_WEBHOOK_URL": "https://support.example.com/telegram/webhook",
        "KEFU_WEBHOOK_SECRET": "s3cret",
        "KEFU_WEBHOOK_HOST": "0.0.0.0",
        "KEFU_WEBHOOK_PORT": "8443",
        "KEFU_AGENT_IDS": "111, 222,333",
        "KEFU_BUSY_REPLY_AFTER_S": "90",
        "KEFU_API_TOKEN": "api-token",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert s.bot_token is not None and s.bot_token.get_secret_value() == "42:secret"
    assert s.staff_chat_id == -1009876543210
    assert s.shop_name == "小米粒旗舰店"
    assert s.zone.key == "Europe/Berlin"
    assert s.business_hours == ((time(9, 30), time(12)), (time(13), time(21)))
    assert s.working_days == frozenset({0, 1, 2, 3, 4, 6})
    assert s.closed_on_holidays is True
    assert s.closed_dates == frozenset({date(2026, 12, 24), date(2026, 12, 31)})
    assert s.db_path == Path("/var/lib/kefu/kefu.db")
    assert s.api_server == "http://127.0.0.1:8081"
    assert s.webhook_url == "https://support.example.com/telegram/webhook"
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == "s3cret"
    assert (s.webhook_host, s.webhook_port) == ("0.0.0.0", 8443)
    assert s.agent_ids == frozenset({111, 222, 333})
    assert s.busy_reply_after_s == 90
    assert s.api_token is not None and s.api_token.get_secret_value() == "api-token"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KEFU_SHOP_NAME=好物小铺\nKEFU_STAFF_CHAT_ID=-100555\n", encoding="utf-8")
    s = load_settings()
    assert (s.shop_name, s.staff_chat_id) == ("好物小铺", -100555)


def test_the_deploy_example_env_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "deploy" / "kefu.env.example"
    s = load_settings(_env_file=example)
    assert s.bot_token is None and s.staff_chat_id is None
    documented = {
        line.split("=", 1)[0] for line in example.read_text().splitlines() if line.startswith("KEFU_")
    }
    fields = {"KEFU_" + name.upper() for name in type(s).model_fields}
    assert documented == fields, "kefu.env.example must list every setting, and only settings"


def test_token_is_never_printed() -> None:
    s = load_settings(bot_token="123456:very-secret-token-value")
    assert "very-secret" not in repr(s)
    assert "very-secret" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KEFU_TIMEZONE", "Mars/Base", "KEFU_TIMEZONE: unknown time zone 'Mars/Base'"),
        ("KEFU_BUSINESS_HOURS", "8-12", "KEFU_BUSINESS_HOURS: '8-12' is not a range like 08:00-12:00"),
        ("KEFU_BUSINESS_HOURS", "08:00-25:00", "KEFU_BUSINESS_HOURS: '08:00-25:00' has an impossible time"),
        ("KEFU_BUSINESS_HOURS", "08:00-08:00", "KEFU_BUSINESS_HOURS: '08:00-08:00' is empty"),
        ("KEFU_BUSINESS_HOURS", "08:00-12:00,11:00-18:00", "KEFU_BUSINESS_HOURS: opening windows overlap"),
        ("KEFU_BUSINESS_HOURS", " , ", "KEFU_BUSINESS_HOURS: no opening window given"),
        ("KEFU_STAFF_CHAT_ID", "staff", "KEFU_STAFF_CHAT_ID: 'staff' is not a numeric chat id"),
        ("KEFU_AGENT_IDS", "12,bob", "KEFU_AGENT_IDS: 'bob' is not a numeric Telegram user id"),
        ("KEFU_WORKING_DAYS", "mon-fry", "KEFU_WORKING_DAYS: 'mon-fry' is not a weekday"),
        ("KEFU_CLOSED_DATES", "2026-13-01", "KEFU_CLOSED_DATES: '2026-13-01' is not a list of dates"),
        ("KEFU_CLOSED_ON_HOLIDAYS", "maybe", "KEFU_CLOSED_ON_HOLIDAYS: 'maybe' is not valid"),
        ("KEFU_BUSY_REPLY_AFTER_S", "soon", "KEFU_BUSY_REPLY_AFTER_S: 'soon' is not valid"),
        ("KEFU_BUSY_REPLY_AFTER_S", "-5", "KEFU_BUSY_REPLY_AFTER_S:"),
        ("KEFU_WEBHOOK_PORT", "70000", "KEFU_WEBHOOK_PORT:"),
        ("KEFU_SEND_CONCURRENCY", "0", "KEFU_SEND_CONCURRENCY:"),
        ("KEFU_KEEP_UPDATES_DAYS", "-1", "KEFU_KEEP_UPDATES_DAYS:"),
        ("KEFU_API_SERVER", "api.telegram.org", "KEFU_API_SERVER: 'api.telegram.org' is not an http(s) URL"),
        ("KEFU_WEBHOOK_URL", "ftp://x", "KEFU_WEBHOOK_URL: 'ftp://x' is not an http(s) URL"),
        (
            "KEFU_WEBHOOK_URL",
            "https://x.example/hook",
            "KEFU_WEBHOOK_SECRET: required when KEFU_WEBHOOK_URL is set",
        ),
        # Telegram's own rules for setWebhook, checked before anything binds (issue 17, item 10).
        ("KEFU_WEBHOOK_URL", "http://x.example/h", "KEFU_WEBHOOK_URL: 'http://x.example/h' must be https"),
        (
            "KEFU_WEBHOOK_URL",
            "https://x.example:8080/hook",
            "KEFU_WEBHOOK_URL: port 8080 is not one Telegram posts to (443, 80, 88 or 8443)",
        ),
        ("KEFU_WEBHOOK_URL", "https://x.example:99999/hook", "KEFU_WEBHOOK_URL: 'https://x.example:99999/hook'"),
    ],
)
def test_bad_value_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("spec", "windows"),
    [
        ("08:00-12:00,14:00-18:00", ((time(8), time(12)), (time(14), time(18)))),
        ("14:00-18:00,08:00-12:00", ((time(8), time(12)), (time(14), time(18)))),
        ("9:00-24:00", ((time(9), time(0)),)),
        ("22:00-02:00", ((time(22), time(2)),)),
    ],
)
def test_business_hours_parsing(spec: str, windows: tuple) -> None:
    assert parse_business_hours(spec) == windows


def test_business_hours_text() -> None:
    assert load_settings().business_hours_text == "每天 08:00-12:00、14:00-18:00"
    assert load_settings(business_hours="9:00-24:00").business_hours_text == "每天 09:00-24:00"


def test_a_shop_open_around_the_clock() -> None:
    from replies.schedule import Schedule

    s = load_settings(business_hours="00:00-24:00")
    assert s.business_hours == ((time(0), time(0)),)
    from datetime import datetime

    schedule = Schedule(windows=s.business_hours, tz=s.zone)
    for hour in (0, 3, 12, 23):
        assert schedule.is_open(datetime(2026, 11, 22, hour, 30, tzinfo=s.zone))


@pytest.mark.parametrize(
    ("raw", "primary", "groups"),
    [
        ("-1001", -1001, (-1001,)),
        ("-1001,-1002", -1001, (-1001, -1002)),
        (" -1001 , -1002 ,-1003 ", -1001, (-1001, -1002, -1003)),
        ("", None, ()),
    ],
)
def test_staff_chat_id_takes_a_list_of_groups(monkeypatch, raw, primary, groups):
    monkeypatch.setenv("KEFU_STAFF_CHAT_ID", raw)
    settings = load_settings()
    assert (settings.staff_chat_id, settings.staff_chat_ids) == (primary, groups)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1001,staff", "KEFU_STAFF_CHAT_ID: 'staff' is not a numeric chat id"),
        ("-1001,-1001", "KEFU_STAFF_CHAT_ID: '-1001,-1001' names a group twice"),
    ],
)
def test_a_bad_staff_group_list_names_the_variable(monkeypatch, raw, message):
    monkeypatch.setenv("KEFU_STAFF_CHAT_ID", raw)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("port", ["", ":443", ":80", ":88", ":8443"])
def test_a_webhook_url_telegram_accepts(port: str) -> None:
    url = f"https://support.example.com{port}/telegram/webhook"
    assert load_settings(webhook_url=url, webhook_secret="s3cret").webhook_url == url


@pytest.mark.parametrize(
    "secret", ["", "has space", "a" * 257, "naïve", "semi;colon", "slash/", "new\nline", "\xff"]
)
def test_a_webhook_secret_telegram_refuses_is_one_line_without_its_value(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """Telegram takes 1-256 characters of A-Z a-z 0-9 _ - (issue 11, item 8); anything else stops start-up."""
    monkeypatch.setenv("KEFU_WEBHOOK_URL", "https://support.example.com/telegram/webhook")
    monkeypatch.setenv("KEFU_WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = str(caught.value)
    assert text.startswith("KEFU_WEBHOOK_SECRET: ")
    assert "\n" not in text
    if len(secret) > 3:
        assert secret not in text


@pytest.mark.parametrize("secret", ["a", "A-z_09", "x" * 256])
def test_a_webhook_secret_telegram_accepts(secret: str) -> None:
    settings = load_settings(webhook_url="https://support.example.com/hook", webhook_secret=secret)
    assert settings.webhook_secret is not None and settings.webhook_secret.get_secret_value() == secret
