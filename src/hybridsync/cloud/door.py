"""The door: every request's body and query string are checked before any route sees them.

Refused here, in Graph's error envelope, and so never stored:

- a body over Graph's 4 MB limit (413), whether announced by ``Content-Length`` or streamed;
- a query string or form body whose percent-encoding is not UTF-8;
- a JSON body that does not parse, holds ``NaN``/``Infinity``, nests deeper than
  :data:`MAX_JSON_DEPTH`, or holds text no database can store (lone surrogates, U+0000).

The door also records the client address for the sign-in lockout (familiar sources).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from hybridsync.cloud.api.wire import graph_error_response
from hybridsync.cloud.errors import GraphError, bad_request
from hybridsync.cloud.middleware import HttpMiddleware
from hybridsync.cloud.signin.lockout import REQUEST_SOURCE

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Graph refuses request bodies over 4 MB."""
MAX_JSON_DEPTH = 32
_UNREADABLE_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload"
    " is of valid JSON format."
)


class BadInput(Exception):
    """Input refused at the door; carries the Graph error to answer."""

    def __init__(self, error: GraphError) -> None:
        super().__init__(error.message)
        self.error = error


class Door(HttpMiddleware):
    """Reads the body once, checks it, hands it on unchanged."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        REQUEST_SOURCE.set(str(client[0]) if client else "")
        try:
            check_query(scope.get("query_string", b""))
            body = await _read_body(scope, receive)
            check_body(Headers(scope=scope).get("content-type", ""), body)
        except BadInput as refused:
            await graph_error_response(Request(scope), refused.error)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def check_query(raw: bytes, where: str = "query string") -> None:
    """Every name and value of a query string (or form body) decodes as UTF-8 text."""
    for part in raw.replace(b"+", b" ").split(b"&"):
        for piece in part.split(b"=", 1):
            _check_text(unquote_to_bytes(piece.decode("latin-1")), where)


def check_body(content_type: str, body: bytes) -> None:
    media = content_type.partition(";")[0].strip().lower()
    if not body:
        return
    if media == "application/x-www-form-urlencoded":
        check_query(body, "form body")
    elif media == "" or media == "application/json" or media.endswith("+json"):
        check_json(body)


def check_json(body: bytes) -> None:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise BadInput(bad_request(_UNREADABLE_JSON)) from exc
    _check_tree(document)


def _refuse_constant(name: str) -> Any:
    raise BadInput(bad_request(f"Invalid JSON number '{name}': NaN and Infinity are not numbers."))


def _check_tree(document: Any) -> None:
    # Iterative, so the depth check itself cannot run out of stack.
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
            raise BadInput(bad_request(f"JSON nested deeper than {MAX_JSON_DEPTH} levels."))
        if isinstance(value, dict):
            for key, item in value.items():
                _check_string(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_string(value)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(
            bad_request(f"Invalid text at position {exc.start}: a lone surrogate code point.")
        ) from exc
    if "\x00" in text:
        raise BadInput(bad_request("Invalid text: the NUL character (U+0000) is not allowed."))


def _check_text(raw: bytes, where: str) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(bad_request(f"Invalid {where}: the text is not UTF-8.")) from exc
    if "\x00" in text:
        raise BadInput(bad_request(f"Invalid {where}: the NUL character is not allowed."))


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadInput(_too_large())
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadInput(_too_large())
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large() -> GraphError:
    return GraphError(
        413, "Request_EntityTooLarge", f"The request body is over {MAX_BODY_BYTES} bytes."
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replay
