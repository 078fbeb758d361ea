"""``/v1.0/$batch``: up to 20 requests, run through this same application in process.

Each item goes through the ordinary routes (authorization, validation, throttling), so a
batched request answers exactly as it would alone. Items run in the order given; an item
whose ``dependsOn`` names a failed item answers 424 without running.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from fastapi import APIRouter, Body
from starlette.requests import Request
from starlette.responses import Response

from hybridsync.cloud.api.deps import Ctx
from hybridsync.cloud.api.wire import error_body, odata, request_ids
from hybridsync.cloud.errors import GraphError, bad_request

router = APIRouter(prefix="/v1.0", tags=["batch"])
MAX_REQUESTS = 20
_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}
_FORWARDED = ("authorization", "client-request-id")
BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["requests"],
    "properties": {
        "requests": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_REQUESTS,
            "items": {
                "type": "object",
                "required": ["id", "method", "url"],
                "properties": {
                    "id": {"type": "string"},
                    "method": {"type": "string", "enum": sorted(_METHODS)},
                    "url": {"type": "string"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {"type": "object"},
                    "dependsOn": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


@router.post(
    "/$batch",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_SCHEMA}}}
    },
)
async def batch(request: Request, ctx: Ctx, body: dict[str, Any] = Body(...)) -> Response:  # noqa: B008
    items = _check_batch(body)
    outer = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
    statuses: dict[str, int] = {}
    responses = []
    for item in items:
        answer = await _run(request, ctx.base_url, item, outer, statuses)
        statuses[str(item["id"]).lower()] = answer["status"]
        responses.append(answer)
    return odata({"responses": responses})


def _check_batch(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("requests")
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid batch payload format.")
    if len(items) > MAX_REQUESTS:
        raise bad_request(f"Number of batch request steps exceeds the maximum of {MAX_REQUESTS}.")
    seen: set[str] = set()
    for item in items:
        _check_item(item, seen)
        seen.add(str(item["id"]).lower())
    return items


def _check_item(item: Any, seen: set[str]) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise bad_request("Invalid batch payload format: every request needs an id.")
    if item["id"].lower() in seen:
        raise bad_request(f"Batch request id '{item['id']}' is used more than once.")
    if str(item.get("method", "")).upper() not in _METHODS or not isinstance(item.get("url"), str):
        raise bad_request(f"Invalid method or url in batch request '{item['id']}'.")
    try:
        item["url"] = _relative(item["url"])
    except ValueError as exc:
        raise bad_request(f"Invalid url in batch request '{item['id']}'.") from exc
    if _names_batch(item["url"]):
        raise bad_request(f"Invalid url in batch request '{item['id']}': batches do not nest.")
    if "dependsOn" not in item and "depends_on" in item:  # msgraph-core writes snake case
        item["dependsOn"] = item.pop("depends_on")
    depends = item.get("dependsOn") or []
    if not isinstance(depends, list) or any(str(d).lower() not in seen for d in depends):
        raise bad_request(f"Batch request '{item['id']}' depends on an unknown or later request.")
    headers = item.get("headers") or {}
    if not isinstance(headers, dict):
        raise bad_request(f"Invalid headers in batch request '{item['id']}'.")
    if "body" in item and not any(k.lower() == "content-type" for k in headers):
        raise bad_request(f"Batch request '{item['id']}' has a body but no Content-Type header.")


def _relative(url: str) -> str:
    """``/users?...`` from a relative URL or an absolute one (SDKs send both)."""
    parts = urlsplit(url)
    path = parts.path if parts.scheme else url.split("?")[0]
    path = "/" + path.lstrip("/").removeprefix("v1.0/").removeprefix("v1.0")
    return f"{path}?{parts.query}" if parts.query else path


def _names_batch(url: str) -> bool:
    """Whether the item's path reaches ``$batch`` once decoded and dot segments resolved.

    Checked on the path as the server will route it (``/./$batch``, ``/%24batch`` and
    ``/users/../$batch`` all arrive at ``/$batch``), decoded until stable so that no
    encoding hides it, and compared without regard to case.
    """
    path = url.split("?", 1)[0]
    for _ in range(4):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    resolved = posixpath.normpath("/" + path.replace("\\", "/"))
    return "$batch" in resolved.casefold().split("/")


async def _run(
    request: Request,
    base_url: str,
    item: dict[str, Any],
    outer: dict[str, str],
    statuses: dict[str, int],
) -> dict[str, Any]:
    failed = [d for d in item.get("dependsOn") or [] if statuses.get(str(d).lower(), 0) >= 400]
    if failed:
        return _failed_dependency(request, item["id"])
    headers = {**outer, **{str(k): str(v) for k, v in (item.get("headers") or {}).items()}}
    content = json.dumps(item["body"]).encode() if "body" in item else None
    url = f"{base_url}/v1.0{item['url']}"
    try:
        inner = httpx.Request(item["method"].upper(), url, headers=headers, content=content)
        answer = await _in_process(request.app, inner)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError):
        err = bad_request(f"Batch request '{item['id']}' cannot be sent: bad url or headers.")
        request_id, client_request_id = request_ids(request)
        return {"id": item["id"], "status": 400, "headers": {"Content-Type": "application/json"},
                "body": error_body(err, request_id, client_request_id)}  # fmt: skip
    kept = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in {"content-type", "location", "retry-after"}
    }
    result: dict[str, Any] = {"id": item["id"], "status": answer.status_code, "headers": kept}
    if answer.content:
        try:
            result["body"] = answer.json()
        except ValueError:
            result["body"] = answer.text
    return result


async def _in_process(app: Any, request: httpx.Request) -> httpx.Response:
    """``request`` answered by ``app`` (this application) as an ASGI call, as httpx's
    ``ASGITransport`` does, without a client around it: a batch of 20 writes spent a
    third of its time in the client's request machinery (and in httpx looking, on every
    request, for an async library this server does not use)."""
    body = request.content
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path.split(b"?")[0],
        "query_string": request.url.query,
        "server": (request.url.host, request.url.port),
        "client": ("127.0.0.1", 123),
        "root_path": "",
    }
    sent = False
    complete = asyncio.Event()
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # a listener for disconnects: the "client" leaves once answered
            await complete.wait()
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete.set()

    await app(scope, receive, send)
    return httpx.Response(status, headers=headers, content=b"".join(parts), request=request)


def _failed_dependency(request: Request, item_id: str) -> dict[str, Any]:
    request_id, client_request_id = request_ids(request)
    err = GraphError(424, "FailedDependency", "A request this one depends on failed.")
    return {
        "id": item_id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": error_body(err, request_id, client_request_id),
    }
