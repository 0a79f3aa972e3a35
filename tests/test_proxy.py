"""KEFU_PROXY: every Bot API call goes through it (a tiny CONNECT proxy in front of the fake server),
HTTPS_PROXY when it is unset, and an unreachable proxy is one line at start naming KEFU_PROXY."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
from click.testing import CliRunner

from bot.commands.cli import main
from bot.ops.proxy import Proxy, ProxyUnreachable, check_reachable, resolve_proxy
from bot.ops.runner import run_bot
from bot.ops.settings import ConfigError, load_settings
from bot.telegram.app import build_bot

CUSTOMER = 7070


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1: it records each tunnel's target and pipes bytes both ways."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readline()).decode()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        method, target, _ = request.split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_every_bot_api_call_goes_through_kefu_proxy(fake, db_path):
    async with ConnectProxy() as proxy:
        settings = load_settings(
            bot_token=fake.token,
            api_server=fake.url,
            proxy=proxy.url,
            db_path=db_path,
            business_hours="00:00-24:00",
            send_limits="inf,inf,inf",
        )
        stop = asyncio.Event()
        bot_task = asyncio.create_task(run_bot(settings, stop=stop))
        fake.push_update(fake.text_update("你好", user_id=CUSTOMER))
        async with asyncio.timeout(10):
            while not any(c.params.get("chat_id") == CUSTOMER for c in fake.calls("sendMessage", ok=True)):
                await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(bot_task, 10)
    fake_address = fake.url.removeprefix("http://")
    assert proxy.tunnels, "no Bot API call went through the proxy"
    assert set(proxy.tunnels) == {fake_address}


def test_the_session_gets_the_socks_proxy(db_path):
    settings = load_settings(bot_token="1:x", proxy="socks5://user:pw@127.0.0.1:1080", db_path=db_path)
    bot = build_bot(settings)
    assert bot.session.proxy == "socks5://user:pw@127.0.0.1:1080"
    from aiohttp_socks import ProxyConnector

    assert bot.session._connector_type is ProxyConnector


async def test_an_unreachable_proxy_stops_start_up_naming_kefu_proxy(fake, db_path):
    port = _closed_port()
    settings = load_settings(
        bot_token=fake.token, api_server=fake.url, proxy=f"http://u:secret@127.0.0.1:{port}", db_path=db_path
    )
    with pytest.raises(ProxyUnreachable) as caught:
        await run_bot(settings)
    message = str(caught.value)
    assert f"cannot reach the proxy http://127.0.0.1:{port}" in message
    assert message.endswith("check KEFU_PROXY")
    assert "secret" not in message
    assert fake.calls() == []  # nothing tried to reach Telegram around the proxy


def test_kefu_run_prints_one_line_for_an_unreachable_proxy(monkeypatch, db_path):
    port = _closed_port()
    monkeypatch.setenv("KEFU_BOT_TOKEN", "1:x")
    monkeypatch.setenv("KEFU_PROXY", f"socks5://127.0.0.1:{port}")
    monkeypatch.setenv("KEFU_DB_PATH", str(db_path))
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"kefu: cannot reach the proxy socks5://127.0.0.1:{port} (")
    assert line.endswith("check KEFU_PROXY")


async def test_check_reachable_accepts_a_listening_proxy():
    async with ConnectProxy() as proxy:
        await check_reachable(Proxy(proxy.url, "KEFU_PROXY"))


TG = "https://api.telegram.org"
VIA_ENV = Proxy("http://p:3128", "HTTPS_PROXY")


@pytest.mark.parametrize(
    ("kefu_proxy", "server", "environ", "expected"),
    [
        (None, TG, {}, None),
        ("socks5://h:1080", TG, {"HTTPS_PROXY": "http://p:3128"}, Proxy("socks5://h:1080", "KEFU_PROXY")),
        (None, TG, {"HTTPS_PROXY": "http://p:3128"}, VIA_ENV),
        (None, TG, {"https_proxy": "http://p:3128"}, VIA_ENV),
        # HTTPS_PROXY is for https: a local http Bot API server is reached directly.
        (None, "http://127.0.0.1:8081", {"HTTPS_PROXY": "http://p:3128"}, None),
        (None, TG, {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".telegram.org"}, None),
        ("http://127.0.0.1:7890", "http://127.0.0.1:8081", {}, Proxy("http://127.0.0.1:7890", "KEFU_PROXY")),
    ],
)
def test_resolve_proxy(kefu_proxy, server, environ, expected):
    assert resolve_proxy(kefu_proxy, server, environ) == expected


def test_https_proxy_is_honoured_by_the_settings(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.1:3128")
    assert load_settings().bot_api_proxy == Proxy("http://10.0.0.1:3128", "HTTPS_PROXY")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://127.0.0.1:21", "KEFU_PROXY: 'ftp://127.0.0.1:21' is not a proxy URL"),
        ("http://127.0.0.1", "KEFU_PROXY: 'http://127.0.0.1' needs a host and a port"),
        ("socks5://user:hunter2@:1080", "KEFU_PROXY: 'socks5://:1080' needs a host and a port"),
    ],
)
def test_a_wrong_kefu_proxy_is_one_line_naming_it(value, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(proxy=value)
    assert str(caught.value).startswith(message)
    assert "hunter2" not in str(caught.value)


def test_a_wrong_https_proxy_is_named(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example.com")
    with pytest.raises(ConfigError, match=r"^HTTPS_PROXY: 'proxy.example.com' is not a proxy URL"):
        load_settings()


def test_the_proxy_password_is_redacted_from_the_logs(monkeypatch, capsys):
    import logging

    from bot.commands.cli import _configure_logging

    settings = load_settings(proxy="socks5://kefu:s3cr3t-pw@127.0.0.1:1080")
    _configure_logging(False, settings)
    try:
        logging.getLogger("bot.test").error("proxy socks5://kefu:s3cr3t-pw@127.0.0.1:1080 refused")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "s3cr3t-pw" not in err and "refused" in err


async def test_a_proxy_that_refuses_the_way_on_is_one_line_naming_kefu_proxy(fake, db_path):
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = load_settings(
        bot_token=fake.token, api_server=fake.url, proxy=f"http://127.0.0.1:{port}", db_path=db_path
    )
    with pytest.raises(ProxyUnreachable) as caught:
        await run_bot(settings)
    server.close()
    assert str(caught.value) == (
        f"cannot reach the Bot API at {fake.url} through the proxy http://127.0.0.1:{port} (403 Forbidden): "
        "check KEFU_PROXY"
    )
    assert fake.calls() == []
