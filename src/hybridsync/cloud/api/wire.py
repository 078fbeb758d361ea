"""Wire formats shared by the routes: JSON responses, error envelopes, opaque tokens."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hybridsync.cloud.errors import GraphError, OAuthError, bad_request

ODATA_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)
GRAPH_ROOT = "https://graph.microsoft.com/v1.0"


class ODataResponse(JSONResponse):
    media_type = ODATA_JSON


def odata(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return ODataResponse(content, status_code=status_code, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def request_ids(request: Request) -> tuple[str, str | None]:
    return getattr(request.state, "request_id", ""), request.headers.get("client-request-id")


def error_body(err: GraphError, request_id: str, client_request_id: str | None) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": client_request_id or request_id,
    }
    error: dict[str, Any] = {"code": err.code, "message": err.message, "innerError": inner}
    if err.details:
        error["details"] = [
            {"code": d.code, "message": d.message, **({"target": d.target} if d.target else {})}
            for d in err.details
        ]
    return {"error": error}


def graph_error_response(request: Request, err: GraphError) -> Response:
    request_id, client_request_id = request_ids(request)
    body = error_body(err, request_id, client_request_id)
    return JSONResponse(body, status_code=err.status, headers=err.headers)


def oauth_error_response(request: Request, err: OAuthError) -> Response:
    request_id, _ = request_ids(request)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": err.error,
        "error_description": f"AADSTS{err.aadsts}: {err.description}\r\nTrace ID: {request_id}"
        f"\r\nCorrelation ID: {request.headers.get('client-request-id', request_id)}"
        f"\r\nTimestamp: {now}",
        "error_codes": [err.aadsts],
        "timestamp": now,
        "trace_id": request_id,
        "correlation_id": request.headers.get("client-request-id", request_id),
        **({"suberror": err.suberror} if err.suberror else {}),
    }
    # Without Retry-After, MSAL keeps an HTTP 400 for 60 s and answers the same request
    # from that cache: a transient failure would outlive its cause by a minute.
    headers = {} if err.retry_after is None else {"Retry-After": str(err.retry_after)}
    return JSONResponse(body, status_code=err.status, headers=headers)


def encode_token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


MAX_TOKEN_LENGTH = 16384
MAX_TOKEN_NUMBER = 2**53  # every number a token of ours holds (sequences, times) is below it


def decode_token(token: str, what: str) -> dict[str, Any]:
    """A token of ours back to its state; 400 for anything we could not have issued."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise bad_request(f"Invalid {what}.")
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(
            base64.urlsafe_b64decode(padded.encode("ascii")), parse_constant=_no_constant
        )
    except (binascii.Error, ValueError, UnicodeError, RecursionError) as exc:
        raise bad_request(f"Invalid {what}.") from exc
    if not isinstance(state, dict) or not all(_sane(value) for value in state.values()):
        raise bad_request(f"Invalid {what}.")
    return state


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _sane(value: Any) -> bool:
    """Numbers in range, strings storable; one level of lists (the shapes we issue)."""
    if isinstance(value, list):
        return all(not isinstance(item, list | dict) and _sane(item) for item in value)
    if isinstance(value, float | dict):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return 0 <= value < MAX_TOKEN_NUMBER
    if isinstance(value, str):
        return value.isprintable() and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    return True


def link_with(request: Request, base_url: str, **params: str) -> str:
    """This request's URL on the public base, with ``params`` replacing query options."""
    query = [(k, v) for k, v in parse_qsl(request.url.query) if k not in params]
    query.extend(params.items())
    return f"{base_url}{request.url.path}?{urlencode(query, safe='$,()')}"


def without_annotations(body: dict[str, Any]) -> dict[str, Any]:
    """The body without instance annotations (``@odata.type``...), which clients may send."""
    return {k: v for k, v in body.items() if not k.startswith("@odata.")}
