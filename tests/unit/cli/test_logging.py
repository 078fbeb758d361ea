"""Logs: text or JSON on stderr, structlog and stdlib alike, secrets never in clear."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from hybridsync.cli.logging import REDACTED, configure_logging, redact_text

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("json", "DEBUG", stream=out)
    yield out
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hybridsync", False):
            root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_structlog_events_are_json_with_level_time_and_context(stream: io.StringIO) -> None:
    structlog.get_logger("hybridsync.test").info("cycle.done", connector="ad", counts={"add": 2})
    (event,) = lines(stream)
    assert event["event"] == "cycle.done"
    assert event["level"] == "info"
    assert event["connector"] == "ad"
    assert event["counts"] == {"add": 2}
    assert str(event["timestamp"]).endswith("Z")


def test_secrets_are_redacted_by_key_and_inside_text(stream: io.StringIO) -> None:
    log = structlog.get_logger("hybridsync.test")
    log.info("bind", password="Pa$$w0rd", client_secret="s3cr3t", nested={"token": "t0k"})
    log.info("request", headers=f"Authorization: Bearer {JWT}", body="client_secret=abc&x=1")
    logging.getLogger("httpx").warning("retrying with token %s", JWT)
    text = stream.getvalue()
    for secret in ("Pa$$w0rd", "s3cr3t", "t0k", JWT, "abc&"):
        assert secret not in text
    first, second, third = lines(stream)
    assert first["password"] == REDACTED
    assert first["nested"] == {"token": REDACTED}
    assert second["body"] == f"client_secret={REDACTED}&x=1"
    assert third["level"] == "warning"
    assert third["logger"] == "httpx"


def test_the_level_filters_and_text_format_is_readable() -> None:
    out = io.StringIO()
    configure_logging("text", "WARNING", stream=out)
    try:
        structlog.get_logger("x").info("hidden")
        structlog.get_logger("x").warning("shown", password="p")
    finally:
        structlog.reset_defaults()
    assert "hidden" not in out.getvalue()
    assert "shown" in out.getvalue()
    assert "password=[redacted]" in out.getvalue()
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("text", "LOUD", stream=out)


def test_redact_text_keeps_ordinary_text() -> None:
    assert redact_text("user ann@contoso.com exported") == "user ann@contoso.com exported"
    assert redact_text('{"access_token": "abc"}') == f'{{"access_token": "{REDACTED}"}}'


def test_records_follow_stderr_when_it_is_swapped_and_debug_reaches_caplog(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging("json", "INFO")  # as a command run by a test runner does
    first.close()  # the runner closes its stream when the command ends
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    caplog.set_level(logging.DEBUG, logger="hybridsync")
    try:
        structlog.get_logger("hybridsync.later").debug("later.event", detail=1)
    finally:
        structlog.reset_defaults()
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_hybridsync", False):
                logging.getLogger().removeHandler(handler)
    assert "later.event" in second.getvalue()  # no "Logging error" on a closed stream
    assert "later.event" in caplog.text  # per-logger levels apply to structlog events
