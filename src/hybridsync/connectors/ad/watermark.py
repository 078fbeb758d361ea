"""Watermarks as opaque strings: the engine stores them with the page they end.

A DirSync watermark holds one cookie per object type; a USN watermark holds the DC's
invocationId and the highest committed USN seen, valid only on that same DC database.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hybridsync.errors import FatalConnectorError

__all__ = ["DirSyncWatermark", "UsnWatermark", "Watermark", "decode", "encode"]

FULL_IMPORT_NEEDED = "run a full import to start delta imports again"


@dataclass(frozen=True, slots=True)
class DirSyncWatermark:
    cookies: Mapping[str, bytes]

    def with_cookie(self, object_type: str, cookie: bytes) -> DirSyncWatermark:
        return DirSyncWatermark({**self.cookies, object_type: cookie})


@dataclass(frozen=True, slots=True)
class UsnWatermark:
    server: str
    invocation_id: str
    usn: int


Watermark = DirSyncWatermark | UsnWatermark


def encode(watermark: Watermark) -> str:
    if isinstance(watermark, DirSyncWatermark):
        cookies = {k: base64.b64encode(v).decode("ascii") for k, v in watermark.cookies.items()}
        return json.dumps({"mode": "dirsync", "cookies": cookies}, sort_keys=True)
    return json.dumps(
        {
            "mode": "usn",
            "server": watermark.server,
            "invocationId": watermark.invocation_id,
            "usn": watermark.usn,
        },
        sort_keys=True,
    )


def _decode(data: Any) -> Watermark:
    if data["mode"] == "dirsync":
        cookies = {str(k): base64.b64decode(v, validate=True) for k, v in data["cookies"].items()}
        return DirSyncWatermark(cookies)
    if data["mode"] == "usn":
        return UsnWatermark(str(data["server"]), str(data["invocationId"]), int(data["usn"]))
    raise ValueError(f"unknown mode {data['mode']!r}")


def decode(text: str) -> Watermark:
    """Parse a stored watermark; a damaged one asks for a full import."""
    try:
        return _decode(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        message = f"the AD watermark is not valid ({exc}): {FULL_IMPORT_NEEDED}"
        raise FatalConnectorError(message) from exc
