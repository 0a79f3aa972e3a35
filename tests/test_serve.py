"""The HTTP check endpoint: same JSON as a `kefu check --jsonl` line, clear errors, optional bearer token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.commands.serve import MAX_REQUEST_BYTES, build_app
from bot.ops.settings import Settings, load_settings
from guards import check


async def _client(settings: Settings) -> TestClient:
    client = TestClient(TestServer(build_app(settings), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    client = await _client(load_settings())
    yield client
    await client.close()


@pytest.fixture
async def locked_client() -> AsyncIterator[TestClient]:
    client = await _client(load_settings(api_token="let-me-in"))
    yield client
    await client.close()


async def test_healthz(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_a_rude_reply_is_blocked_with_hits_and_suggestion(client: TestClient) -> None:
    text = "你怎么还不明白,我都说了三遍了"
    response = await client.post("/v1/check", json={"text": text, "id": "t-1"})
    assert response.status == 200
    body = await response.json()
    assert body["id"] == "t-1" and body["text"] == text
    assert body["allowed"] is False
    assert body["hits"] and body["suggestion"]
    hit = body["hits"][0]
    assert {"category", "phrase", "score", "start", "end"} <= set(hit)
    assert 0 <= hit["start"] < hit["end"] <= len(text)
    assert body == json.loads(json.dumps({"text": text, "id": "t-1", **check(text).to_dict()}))


async def test_a_polite_reply_is_allowed(client: TestClient) -> None:
    response = await client.post("/v1/check", json={"text": "对不起,请您大声一点儿,好吗?"})
    body = await response.json()
    assert (response.status, body["allowed"], body["hits"]) == (200, True, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"txt": "hi"}', '"text" is missing'),
        (b'{"text": 42}', '"text" is missing or not a string'),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
async def test_bad_requests_are_clear_400s(client: TestClient, body: bytes, message: str) -> None:
    response = await client.post("/v1/check", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_oversized_request_is_413(client: TestClient) -> None:
    response = await client.post("/v1/check", json={"text": "好" * MAX_REQUEST_BYTES})
    assert response.status == 413


async def test_bearer_token_required_when_configured(locked_client: TestClient) -> None:
    assert (await locked_client.post("/v1/check", json={"text": "您好"})).status == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await locked_client.post("/v1/check", json={"text": "您好"}, headers=wrong)).status == 401
    right = {"Authorization": "Bearer let-me-in"}
    response = await locked_client.post("/v1/check", json={"text": "您好"}, headers=right)
    assert response.status == 200 and (await response.json())["allowed"] is True
    assert (await locked_client.get("/healthz")).status == 200


@pytest.mark.parametrize(("text", "level"), [("你自己去查吧", "block"), ("这个没办法修改的呢", "review")])
async def test_the_verdict_level_is_returned(client: TestClient, text: str, level: str) -> None:
    body = await (await client.post("/v1/check", json={"text": text})).json()
    assert (body["allowed"], body["level"]) == (False, level)


async def test_a_long_text_is_checked_to_its_end(client: TestClient) -> None:
    text = "您好，您的订单已经发货了，请注意查收。" * 450 + "你自己去查吧。"
    assert len(text) > 4096 * 2
    body = await (await client.post("/v1/check", json={"text": text})).json()
    assert body["allowed"] is False
    assert any(text[hit["start"] : hit["end"]].startswith("你自己去查") for hit in body["hits"])


FLAT = "这个地址改不了的"  # allowed on its own words
PLEA = "我等了好久了，能不能快点处理啊"


async def test_the_customers_last_message_is_judged_with_the_text(client: TestClient) -> None:
    assert check(FLAT).allowed and check(FLAT, PLEA).level == "review"  # what the guard says
    alone = await (await client.post("/v1/check", json={"text": FLAT})).json()
    after_plea = await (await client.post("/v1/check", json={"text": FLAT, "context": PLEA})).json()
    assert alone["allowed"] is True and alone["level"] is None
    assert (after_plea["allowed"], after_plea["level"], after_plea["context"]) == (False, "review", PLEA)
    assert after_plea["hits"] == check(FLAT, PLEA).to_dict()["hits"]


@pytest.mark.parametrize("context", [3, ["急"], {"text": "急"}, True])
async def test_a_context_that_is_not_a_string_is_a_clear_400(client: TestClient, context: object) -> None:
    response = await client.post("/v1/check", json={"text": FLAT, "context": context})
    assert response.status == 400 and "context" in (await response.json())["error"]
