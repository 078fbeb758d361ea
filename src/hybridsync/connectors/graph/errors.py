"""The one place httpx's exceptions and Graph's error answers become ours.

Every call into httpx is wrapped in :func:`transport_errors`; every Graph error answer
(a whole response or one ``$batch`` item) is classified by :func:`classify`.
"""

from __future__ import annotations

import enum
import json
import re
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from hybridsync.errors import FatalConnectorError, TransientConnectorError, UnreachableError


class RequestNotSent(TransientConnectorError):
    """The request never reached the service: sending it again is safe."""


class OutcomeUnknown(TransientConnectorError):
    """The request was sent but no answer came: it may or may not have been applied."""


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _host(exc: httpx.RequestError) -> str:
    try:
        return exc.request.url.netloc.decode("ascii")
    except RuntimeError:  # raised outside a request: no URL to name
        return "the service"


@contextmanager
def transport_errors(what: str) -> Iterator[None]:
    """Translate httpx's exceptions raised while doing ``what``.

    Raises:
        UnreachableError: TLS failure (the certificate is not trusted, the name differs).
        FatalConnectorError: a request that can never be sent.
        RequestNotSent: no connection could be made (safe to send again).
        OutcomeUnknown: the request went out and the answer did not come back.
    """
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        host = _host(exc)
        if _is_tls_failure(exc):
            raise UnreachableError(f"{what}: TLS verification of {host} failed: {exc}") from exc
        raise RequestNotSent(f"{what}: cannot connect to {host}: {exc}") from exc
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        # The most specific classes come first: a connect failure is safe to retry,
        # anything after the connection was made may have reached the service.
        raise OutcomeUnknown(f"{what}: no answer ({type(exc).__name__}): {exc}") from exc
    except httpx.HTTPError as exc:
        raise FatalConnectorError(f"{what}: {exc}") from exc


class Verdict(enum.Enum):
    """What to do about one answer."""

    DONE = "done"
    RETRY = "retry"
    """Not applied; the service asks to be asked again (throttling, busy, conflict)."""
    REJECT = "reject"
    """This object was refused; nothing was written."""
    UNKNOWN = "unknown"
    """A server error on a non-idempotent write: it may have been applied."""
    REAUTH = "reauth"
    """The token was refused: get a new one and send again."""
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class GraphError:
    """The parts of a Graph error envelope we act on."""

    status: int
    code: str
    message: str
    attribute: str | None = None
    conflict: bool = False
    """Another object already holds a unique value (Graph's ``ObjectConflict``)."""

    def describe(self) -> str:
        text = f"{self.message} ({self.status} {self.code})".strip()
        return f"{self.attribute}: {text}" if self.attribute else text


_PROPERTY_IN_MESSAGE = re.compile(
    r"propert(?:y|ies)\s+'?([A-Za-z][A-Za-z0-9]*)'?|for property\s+'?([A-Za-z][A-Za-z0-9]*)'?",
    re.IGNORECASE,
)


def _attribute_named(error: Mapping[str, Any]) -> str | None:
    for detail in error.get("details") or ():
        if isinstance(detail, Mapping) and detail.get("target"):
            return str(detail["target"])
    if error.get("target"):
        return str(error["target"])
    # Graph names the property only in the text for many directory errors.
    for match in _PROPERTY_IN_MESSAGE.finditer(str(error.get("message", ""))):
        name = match.group(1) or match.group(2)
        if name and name.lower() not in {"value", "values", "contains", "is"}:
            return name
    return None


def parse_error(status: int, body: Any) -> GraphError:
    """Read Graph's ``{"error": {...}}`` envelope; anything else becomes a plain message."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body) if body else None
        except ValueError:
            return GraphError(status, "", str(body)[:200])
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return GraphError(status, "", "")
    return GraphError(
        status=status,
        code=str(error.get("code", "")),
        message=str(error.get("message", "")),
        attribute=_attribute_named(error),
        conflict=_is_conflict(error),
    )


def _is_conflict(error: Mapping[str, Any]) -> bool:
    details = [d for d in error.get("details") or () if isinstance(d, Mapping)]
    if any(str(d.get("code", "")) == "ObjectConflict" for d in details):
        return True
    return "already exists" in str(error.get("message", ""))


RETRY_STATUSES = frozenset({409, 423, 424, 429, 503})
"""Statuses that say the write was not done and may succeed later. 409 is Graph's
``Directory_ConcurrencyViolation``; 424 a failed dependency (one documented form of a
throttled batch)."""
SERVER_ERRORS = frozenset({500, 502, 504})
RETRIED_CONFLICT_CODES = frozenset({"", "Directory_ConcurrencyViolation"})


def classify(status: int, method: str, error: GraphError | None = None) -> Verdict:
    """What a status means for a request with this method."""
    if status < 300:
        return Verdict.DONE
    if status == 401:
        return Verdict.REAUTH
    if status == 409 and error is not None and error.code not in RETRIED_CONFLICT_CODES:
        # Graph answers duplicates with 400 ObjectConflict; any other 409 than a
        # concurrency violation is about this object and final.
        return Verdict.REJECT
    if status in RETRY_STATUSES:
        return Verdict.RETRY
    if status in SERVER_ERRORS:
        # A create that failed on the server may still have happened: never resend blindly.
        return Verdict.UNKNOWN if method == "POST" else Verdict.RETRY
    if 400 <= status < 500:
        return Verdict.REJECT
    return Verdict.FATAL


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` header (Graph sends integer seconds)."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
