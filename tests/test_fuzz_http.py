"""Random and hostile HTTP requests to both servers (the webhook and ``/v1/check``): headers and bodies as raw
bytes, so nothing a client library would clean up is spared. Every answer is a deliberate one, never a 5xx
(issue 11, item 8). Bounded: a few hundred examples, a few seconds."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.commands.serve import build_app
from bot.desk.customers import SupportDesk
from bot.ops import http_input
from bot.ops.settings import load_settings
from bot.store.sqlite import open_storage
from bot.telegram.app import build_dispatcher
from bot.telegram.inbox import Inbox, UpdatePump
from bot.telegram.sender import Sender
from bot.telegram.webhook import SECRET_HEADER, build_webhook_app

SECRET = "fuzz-secret-0123456789"
TOKEN = "fuzz-bearer"
PATH = "/telegram/webhook"
WEBHOOK_ANSWERS = {200, 400, 401, 403, 408, 413}
CHECK_ANSWERS = {200, 400, 401, 408, 413}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

header_bytes = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xff", b"\xff\xfe", b"\x00", b"\xc3\x28", b"\xed\xa0\x80", b" " * 300]),
).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))  # a header line ends at CR LF
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_ids = iter(range(1, 2**31))
good_ids = st.just(None).map(lambda _: next(_ids))  # a new one each time: each 200 is a new stored row
bad_ids = st.one_of(st.integers(), st.just(2**70), st.just(-1), st.booleans(), st.text(max_size=5))
nested = st.integers(1, 40_000).map(lambda depth: b"[" * depth + b"]" * depth)
text_updates = st.builds(
    lambda i, text: json.dumps(
        {
            "update_id": i,
            "message": {
                "message_id": 1,
                "date": 1_800_000_000,
                "chat": {"id": 5353, "type": "private", "first_name": "客户"},
                "from": {"id": 5353, "is_bot": False, "first_name": "客户"},
                "text": text,
            },
        },
        ensure_ascii=False,
    ).encode("utf-8", "surrogatepass"),
    st.one_of(good_ids, good_ids, bad_ids),
    st.text(max_size=50),
)
bodies = st.one_of(
    text_updates,  # often: the fuzz must get past the parser to the database and the handlers
    text_updates,
    st.binary(max_size=600),
    junk.map(lambda v: json.dumps(v).encode()),
    nested,
    st.builds(
        lambda i, m: json.dumps({"update_id": i, "message": m}).encode(), st.one_of(good_ids, bad_ids), junk
    ),
    st.builds(lambda v: json.dumps({"text": v}).encode(), junk),
    st.sampled_from([b'{"update_id": 1, "x": ' + b"9" * 5000 + b"}", b'{"text": "\\ud800"}', b"", b"null"]),
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Both servers on one event loop of their own, the webhook over a real pump and database."""
    path = tmp_path_factory.mktemp("fuzz-http") / "fuzz.db"
    config = load_settings(
        bot_token="123456:FUZZ-token-never-logged-0123456789abcdef",
        staff_chat_id=-1001234567890,
        db_path=path,
        business_hours="00:00-24:00",
        api_token=TOKEN,
    )
    loop = asyncio.new_event_loop()
    storage = open_storage(path)
    # Nothing answers on port 9: a handler's Bot API call fails fast (this fuzz is about HTTP input).
    bot = Bot(
        config.bot_token.get_secret_value(),
        session=AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9")),
    )
    desk = SupportDesk(storage, config)
    pump = UpdatePump(
        build_dispatcher(config, storage, desk, Sender(bot, storage, config)), bot, Inbox(storage)
    )
    webhook = TestServer(build_webhook_app(pump, path=PATH, secret=SECRET), host="127.0.0.1")
    checker = TestServer(build_app(config), host="127.0.0.1")
    for server in (webhook, checker):
        loop.run_until_complete(server.start_server(**http_input.server_options()))
    yield loop, webhook.port, checker.port, storage, pump
    loop.run_until_complete(pump.drain())
    for server in (webhook, checker):
        loop.run_until_complete(server.close())
    loop.run_until_complete(bot.session.close())
    loop.close()
    storage.close()


async def _post(port: int, path: str, header: bytes, body: bytes) -> int:
    """POST raw bytes (one header line as given); return the status the server answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n".encode()
            + header
            + b"\r\n\r\n"
            + body
        )
        await writer.drain()
        async with asyncio.timeout(30):  # a bound for a hung test only
            answer = await reader.read()
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1])


def _update(update_id: int, text: str) -> bytes:
    """Return a well-formed text update from a customer, as Telegram would POST it."""
    message = {
        "message_id": update_id,
        "date": 1_800_000_000,
        "chat": {"id": 5353, "type": "private", "first_name": "客户"},
        "from": {"id": 5353, "is_bot": False, "first_name": "客户"},
        "text": text,
    }
    return json.dumps({"update_id": update_id, "message": message}, ensure_ascii=False).encode()


KNOWN_GOOD = [_update(10**9 + i, text) for i, text in enumerate(["你好", "我要投诉", "谢谢"])]


@FUZZ
@given(
    secret=st.one_of(
        st.just(SECRET.encode()),
        st.just(SECRET.encode()),
        header_bytes,
        header_bytes.map(lambda b: SECRET.encode() + b),
    ),
    body=bodies,
)
@example(secret=SECRET.encode(), body=KNOWN_GOOD[0])
@example(secret=SECRET.encode(), body=KNOWN_GOOD[1])
@example(secret=SECRET.encode(), body=KNOWN_GOOD[2])
def test_the_webhook_answers_every_request_deliberately(servers, secret: bytes, body: bytes) -> None:
    loop, port, _, storage, _ = servers
    status = loop.run_until_complete(_post(port, PATH, SECRET_HEADER.encode() + b": " + secret, body))
    assert status in WEBHOOK_ANSWERS
    if status == 200:  # stored before the 200
        update_id = json.loads(body)["update_id"]
        assert storage.db.execute("SELECT 1 FROM updates WHERE update_id = ?", [update_id]).fetchone()


@FUZZ
@given(
    bearer=st.one_of(
        st.just(f"Bearer {TOKEN}".encode()), header_bytes, header_bytes.map(lambda b: b"Bearer " + b)
    ),
    body=bodies,
)
def test_the_check_endpoint_answers_every_request_deliberately(servers, bearer: bytes, body: bytes) -> None:
    loop, _, port, _, _ = servers
    status = loop.run_until_complete(_post(port, "/v1/check", b"Authorization: " + bearer, body))
    assert status in CHECK_ANSWERS


def test_the_fuzzing_got_past_the_secret(servers) -> None:
    """Guard against a harness that only ever knocks at the door: the known-good updates were stored and
    handled, so the random ones had a working path to the database and the handlers too."""
    loop, _, _, storage, pump = servers
    loop.run_until_complete(pump.drain())
    ids = [json.loads(body)["update_id"] for body in KNOWN_GOOD]
    marks = ",".join("?" * len(ids))
    statuses = storage.db.execute(f"SELECT status FROM updates WHERE update_id IN ({marks})", ids).fetchall()
    assert [s for (s,) in statuses] == ["done"] * len(KNOWN_GOOD)
