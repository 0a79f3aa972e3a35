"""No secret reaches a log line: not in the message, its arguments, nor a traceback."""

from __future__ import annotations

import logging

import pytest

from bot.ops.logs import SecretFilter, redact

TOKEN = "123456789:AAH-secret_value_that_is_long_enough_0123"


def test_redact_any_bot_token_shape() -> None:
    assert (
        redact(f"POST https://api.telegram.org/bot{TOKEN}/getMe")
        == "POST https://api.telegram.org/bot***/getMe"
    )
    assert redact("webhook secret s3cr3t in text", "s3cr3t") == "webhook secret *** in text"
    assert redact("order 12345: shipped") == "order 12345: shipped"


def test_filter_redacts_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kefu.test.logs")
    caplog.handler.addFilter(SecretFilter(TOKEN))
    try:
        raise RuntimeError(f"connection to /bot{TOKEN}/getUpdates failed")
    except RuntimeError:
        logger.exception("polling failed for %s", TOKEN)
    assert TOKEN not in caplog.text
    assert "***" in caplog.text and "polling failed" in caplog.text and "RuntimeError" in caplog.text
