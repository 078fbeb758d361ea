"""Login CSRF protection of the sign-in page: a double-submit cookie bound to the request.

The page (GET) sets a random per-browser key in a cookie (HttpOnly, SameSite=Strict, and
``__Host-`` on HTTPS so no other host can plant one) and puts in the form
HMAC-SHA256(key, the tenant and the authorization request's parameters). A post counts only
when its token equals the MAC recomputed from the cookie it carries and the parameters it
posts. Another site can make a browser post the form, but can neither read nor set this
site's cookie, so it cannot produce a matching token; and a token made for one authorization
request (client, redirect, state, PKCE challenge) does not fit another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping

from starlette.responses import Response

__all__ = [
    "FIELD", "browser_key", "cookie_name", "is_valid", "new_key", "set_key_cookie", "token_for",
]  # fmt: skip

FIELD = "csrf_token"
"""The form field that carries the token."""
_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def cookie_name(secure: bool) -> str:
    # The __Host- prefix (a Secure cookie for this host and path /, no Domain) exists only
    # over HTTPS; a plain-HTTP development server gets the bare name.
    return "__Host-hybridsync-signin" if secure else "hybridsync-signin"


def browser_key(cookies: Mapping[str, str], secure: bool) -> str | None:
    """The key this browser already holds, None without a well-formed one."""
    value = cookies.get(cookie_name(secure), "")
    return value if _KEY.match(value) else None


def new_key() -> str:
    return secrets.token_urlsafe(32)


def token_for(key: str, tenant_id: str, params: Mapping[str, str]) -> str:
    message = json.dumps([tenant_id, sorted(params.items())], separators=(",", ":"))
    digest = hmac.new(key.encode("ascii"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_valid(key: str, tenant_id: str, params: Mapping[str, str], token: str) -> bool:
    """Whether a posted ``token`` was made for this browser's key and these parameters."""
    if not token:
        return False
    return hmac.compare_digest(token_for(key, tenant_id, params), token)


def set_key_cookie(response: Response, key: str, secure: bool) -> None:
    response.set_cookie(
        cookie_name(secure), key, path="/", secure=secure, httponly=True, samesite="strict"
    )
