"""Signed-in sessions and sign-ins in progress, kept in the server's memory.

The browser holds only a random session id in a ``__Host-`` cookie (Secure, HttpOnly,
SameSite=Lax, Path=/): nothing in it can be read or forged. Each session has its own
CSRF token, which every state-changing form carries and the server compares in constant
time. A restart signs everybody out.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from dataclasses import dataclass, field

from hybridsync.cli.console.oidc import Flow

__all__ = ["COOKIE", "FLOW_COOKIE", "Session", "Sessions"]

COOKIE = "__Host-hybridsync-console"
FLOW_COOKIE = "__Host-hybridsync-console-flow"
"""Binds a sign-in in progress to the browser that started it (no login CSRF)."""
FLOW_SECONDS = 600.0
_FLOW_SECONDS = FLOW_SECONDS
_MAX_FLOWS = 1000
_MAX_FLOWS_PER_CLIENT = 50
_MAX_SESSIONS = 10_000
_MAX_DENIED = 1000


class Level:
    READER = "reader"
    OPERATOR = "operator"


@dataclass
class Session:
    user: str
    """The signed-in user's name for the audit log: UPN, else the subject."""
    name: str
    level: str | None
    """``operator``, ``reader`` or ``None`` (signed in, but no access)."""
    expires: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    actor: str = ""
    """Who the audit log names: the user, with the token's object and tenant ids."""

    @property
    def operator(self) -> bool:
        return self.level == Level.OPERATOR

    def csrf_matches(self, given: str) -> bool:
        return secrets.compare_digest(given.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, lifetime_seconds: float) -> None:
        self._lifetime = lifetime_seconds
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._denied: dict[str, Session] = {}
        self._flows: dict[str, Flow] = {}

    def open(self, user: str, name: str, level: str | None, actor: str = "") -> str:
        """A new session's id (the cookie's value).

        Users without access (``level`` None) are kept apart, in a smaller table of their
        own: however many sign in, they never push a reader's or operator's session out.
        """
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            table, limit = (self._sessions, _MAX_SESSIONS) if level else (self._denied, _MAX_DENIED)
            if len(table) >= limit:  # the oldest go first
                del table[min(table, key=lambda k: table[k].expires)]
            expires = time.monotonic() + self._lifetime
            table[session_id] = Session(user, name, level, expires, actor=actor or user)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id) or self._denied.get(session_id)
            if session is None or session.expires < time.monotonic():
                self._sessions.pop(session_id, None)
                self._denied.pop(session_id, None)
                return None
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)
            self._denied.pop(session_id or "", None)

    def begin(self, flow: Flow, client: str = "") -> bool:
        """Keep ``flow`` until its browser returns; False when too many are in progress, in
        all or from ``client`` (an address): a flood of sign-in requests is refused rather
        than ending others' sign-ins, and one address cannot take the whole table."""
        with self._lock:
            now = time.monotonic()
            self._flows = {k: f for k, f in self._flows.items() if now - f.started < _FLOW_SECONDS}
            from_client = sum(1 for f in self._flows.values() if f.client == client)
            if len(self._flows) >= _MAX_FLOWS or from_client >= _MAX_FLOWS_PER_CLIENT:
                return False
            self._flows[flow.state] = dataclasses.replace(flow, client=client)
            return True

    def take_flow(self, state: str, browser: str | None) -> Flow | None:
        """The flow of ``state``, once (a replayed redirect finds nothing), and only in the
        browser that started it (``browser``: its flow cookie), compared in constant time."""
        with self._lock:
            flow = self._flows.pop(state, None)
        if flow is None or time.monotonic() - flow.started > _FLOW_SECONDS:
            return None
        if not browser or not secrets.compare_digest(browser.encode(), flow.browser.encode()):
            return None
        return flow

    def _forget_expired(self) -> None:
        now = time.monotonic()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires >= now}
        self._denied = {k: s for k, s in self._denied.items() if s.expires >= now}


def access_level(
    claims: dict[str, object],
    *,
    reader_roles: list[str],
    operator_roles: list[str],
    reader_groups: list[str],
    operator_groups: list[str],
) -> str | None:
    """``operator``, ``reader`` or ``None``, from the token's ``wids`` and ``groups``."""
    wids, groups = _strings(claims.get("wids")), _strings(claims.get("groups"))
    if wids & set(operator_roles) or groups & set(operator_groups):
        return Level.OPERATOR
    if wids & set(reader_roles) or groups & set(reader_groups):
        return Level.READER
    return None


def _strings(value: object) -> set[str]:
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()
