"""Every way ``kefu run`` can fail to start is ONE line on stderr naming the cause and the variable to check,
with an exit code other than 0 and the token nowhere in the output (issue 11, item 3).

Each case runs the real command in a child process (``python -m bot run``), so what is checked is what an
operator sees: Python's own traceback printing, asyncio's warnings and the logging set-up included.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

# The secret part is shorter than what the log filter's token pattern catches: only an explicit
# redaction of this very token keeps it out of the output.
TOKEN = "7654321:leak-canary-0123"
SECRET_PART = TOKEN.split(":", 1)[1]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def run_kefu(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    """Run ``kefu run`` with the given KEFU_* variables; return (exit code, stdout, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    clean.update({"KEFU_DB_PATH": str(tmp_path / "kefu.db"), "KEFU_BOT_TOKEN": TOKEN, **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def tiny_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Yield a starter of one-handler HTTP servers on 127.0.0.1 (every path); each call returns a base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def assert_one_clear_line(code: int, out: str, err: str, *names: str) -> str:
    """Check the failure shape every case shares; return the line."""
    assert code != 0
    assert SECRET_PART not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("kefu: ")
    assert "Traceback" not in err
    for name in names:
        assert name in line
    return line


async def test_a_revoked_token(tmp_path, fake):
    fake.fail_next("getMe", 401, description="Unauthorized")
    line = assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=fake.url), "KEFU_BOT_TOKEN")
    assert "401" in line


async def test_a_token_telegram_does_not_know(tmp_path, fake):
    """Telegram answers 404 to a token of the right shape that belongs to no bot."""
    fake.fail_next("getMe", 404, description="Not Found")
    assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=fake.url), "KEFU_BOT_TOKEN")


@pytest.mark.parametrize("token", ["not-a-token", "12345:has a space", "abc:def", "7654321:"])
async def test_a_malformed_token(tmp_path, token):
    code, out, err = await run_kefu(tmp_path, KEFU_BOT_TOKEN=token)
    assert_one_clear_line(code, out, err, "KEFU_BOT_TOKEN")
    assert token not in out + err


async def test_an_impossible_port(tmp_path):
    assert_one_clear_line(
        *await run_kefu(tmp_path, KEFU_API_SERVER="http://127.0.0.1:99999"), "KEFU_API_SERVER"
    )


async def test_a_closed_port(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"
    line = assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")
    assert "cannot reach" in line


async def test_a_name_that_does_not_resolve(tmp_path):
    url = "http://kefu-api-server.invalid"
    assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")


async def test_a_redirect_loop(tmp_path, tiny_server):
    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path)

    url = await tiny_server(loop)
    assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")


async def test_a_502_html_page(tmp_path, tiny_server):
    async def bad_gateway(request: web.Request) -> web.StreamResponse:
        page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n"
        return web.Response(status=502, text=page, content_type="text/html")

    url = await tiny_server(bad_gateway)
    line = assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")
    assert "502" in line


async def test_a_proxy_that_wants_credentials(tmp_path, tiny_server):
    """kefu has no proxy setting of its own: a proxy sits in KEFU_API_SERVER, and refuses with 407."""

    async def proxy(request: web.Request) -> web.StreamResponse:
        page = "<html>Proxy Authentication Required</html>"
        return web.Response(status=407, text=page, content_type="text/html")

    url = await tiny_server(proxy)
    line = assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")
    assert "407" in line


async def test_an_api_server_that_is_not_telegram(tmp_path, tiny_server):
    """JSON that is not a Bot API answer (another service on that port)."""

    async def other(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "service": "something else"})

    url = await tiny_server(other)
    assert_one_clear_line(*await run_kefu(tmp_path, KEFU_API_SERVER=url), "KEFU_API_SERVER")
