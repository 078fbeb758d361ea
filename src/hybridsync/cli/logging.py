"""Log configuration: the only place that configures logging (structlog and stdlib).

Everything goes to stderr, as text for people or as one JSON object per line
(``--log-format json``) for log collectors. structlog events and the standard library's
records (httpx, uvicorn, msal) pass through the same processors, the secret redaction
among them, so no code path can log a password, a client secret or a token in clear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor

LogFormat = Literal["text", "json"]
REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|credential|cookie|private_?key|master_?key"
    r"|unicodepwd|nt_?hash|api_?key",
    re.IGNORECASE,
)
_SECRET_TEXT = [
    # Authorization headers and their values wherever they appear in a message.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # JSON web tokens (access and id tokens).
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # key=value and "key": "value" pairs whose key names a secret.
    (
        re.compile(
            r"(?i)(\"?(?:client_secret|password|passwd|access_token|refresh_token|id_token"
            r"|assertion|client_assertion)\"?\s*[=:]\s*\"?)[^\"&\s,}]+"
        ),
        r"\1" + REDACTED,
    ),
]


def redact_text(text: str) -> str:
    """``text`` with every token, authorization value and ``secret=...`` pair replaced."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(key, v) for v in value)
    return value


def redact_secrets(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: secrets by key name, and tokens inside any text."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _redact_value(key, value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(colors=stream.isatty())


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the given stream, else to whatever ``sys.stderr`` is at each record.

    Resolving stderr late keeps the handler valid when a caller (a test runner, an
    embedding application) swaps the stream after logging was configured.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)


def configure_logging(
    log_format: LogFormat = "text", level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Send structlog and stdlib logging to ``stream`` (stderr) in ``log_format``."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(log_format, stream or sys.stderr),
        ],
    )
    handler = _StderrHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_hybridsync", False):
            root.removeHandler(old)
    handler._hybridsync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(numeric)
    # httpx logs every request at INFO: useful when debugging, noise otherwise.
    logging.getLogger("httpx").setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Levels are the standard library's (so per-logger levels and pytest's caplog
        # apply to structlog events too).
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def bind(**values: Any) -> None:
    """Add context (``run_id``, ``connector``) to every event of this thread."""
    structlog.contextvars.bind_contextvars(**values)


def unbind(*keys: str) -> None:
    structlog.contextvars.unbind_contextvars(*keys)
