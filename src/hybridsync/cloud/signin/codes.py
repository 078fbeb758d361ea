"""Authorization codes (single use, ten minutes, bound to client, redirect URI and PKCE)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

CODE_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class CodeGrant:
    """What an authorization code stands for until redeemed (once, within ``CODE_SECONDS``)."""

    tenant_id: str
    user_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    code_challenge_method: str
    nonce: str | None


def challenge_matches(grant: CodeGrant, verifier: str) -> bool:
    """RFC 7636: S256 or plain; a grant made without a challenge needs no verifier."""
    if not grant.code_challenge:
        return not verifier
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return hmac.compare_digest(computed, grant.code_challenge)


class AuthorizationCodes:
    def __init__(self) -> None:
        self._codes: dict[str, tuple[CodeGrant, float]] = {}
        self._lock = threading.Lock()

    def issue(self, grant: CodeGrant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._codes = {k: v for k, v in self._codes.items() if v[1] > now}
            self._codes[code] = (grant, now + CODE_SECONDS)
        return code

    def redeem(self, code: str) -> CodeGrant | None:
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]
