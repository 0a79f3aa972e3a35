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


@pytest.fixture
def restore_logging():
    """Put the root logger and aiogram's update logger back as they were after the test."""
    root, event = logging.getLogger(), logging.getLogger("aiogram.event")
    saved = (root.handlers[:], root.level, event.level)
    yield
    root.handlers[:], _, _ = saved
    root.setLevel(saved[1])
    event.setLevel(saved[2])


def test_aiograms_line_per_update_is_left_out_unless_verbose(restore_logging) -> None:
    from bot.ops.logs import configure_logging

    event = logging.getLogger("aiogram.event")
    configure_logging(logging.INFO, TOKEN)
    # "Update id=… is handled. Duration … ms": one line per update; the updates table keeps each status
    assert not event.isEnabledFor(logging.INFO)
    assert event.isEnabledFor(logging.WARNING)
    assert logging.getLogger("bot.telegram.sender").isEnabledFor(logging.INFO)  # kefu's own lines stay
    configure_logging(logging.DEBUG, TOKEN)  # --verbose: everything
    assert event.isEnabledFor(logging.INFO)
