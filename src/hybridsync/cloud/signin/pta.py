"""The pass-through queue: sign-ins wait here until one agent of the tenant answers.

A sign-in encrypts the password once per connected agent (RSA-OAEP), queues the request and
waits for an answer up to the timeout; agents keep an outbound long-poll open and take
requests. Only ciphertext is queued, only in memory; an answer carries just the outcome.

An agent counts as present while it holds a long poll, while it works on a request it took,
and for ``presence_seconds`` after its last poll ended (the moment between two polls). The
queue knows when each poll ends (an agent that disconnects ends its poll at once), so a
sign-in with no agent present fails within about a second, not after the whole timeout.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hybridsync.cloud.signin.agents import Agent, AgentRegistry, encrypt_for
from hybridsync.cloud.signin.outcomes import Outcome

AGENT_OUTCOMES = frozenset(Outcome) - {Outcome.NO_AGENT, Outcome.TIMEOUT}
PRESENCE_SECONDS = 0.5
"""How long after its poll ended an agent still counts as present (it polls again at once)."""


@dataclass
class _Request:
    id: str
    tenant_id: str
    user_principal_name: str
    anchor: str
    ciphertexts: dict[str, bytes]
    outcome: Outcome | None = None
    taken_by: str | None = None


class PassThroughQueue:
    def __init__(
        self,
        registry: AgentRegistry,
        *,
        timeout_seconds: float = 10.0,
        presence_seconds: float = PRESENCE_SECONDS,
    ) -> None:
        self.registry = registry
        self.timeout_seconds = timeout_seconds
        self.presence_seconds = presence_seconds
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Request]] = {}
        self._requests: dict[str, _Request] = {}
        self._polling: dict[str, int] = {}
        self._working: dict[str, int] = {}
        self._last_seen: dict[str, float] = {}
        self._closed = False

    # -- the sign-in side ---------------------------------------------------------------

    def connected_agents(self, tenant_id: str) -> list[Agent]:
        agents = self.registry.agents_of(tenant_id)  # a database read: not under the lock
        now = time.monotonic()
        with self._cond:
            return [agent for agent in agents if self._present(agent.id, now)]

    def validate(
        self, tenant_id: str, user_principal_name: str, anchor: str, password: str
    ) -> Outcome:
        agents = self.connected_agents(tenant_id)
        if not agents:
            return Outcome.NO_AGENT
        request = _Request(
            str(uuid.uuid4()),
            tenant_id,
            user_principal_name,
            anchor,
            {agent.id: encrypt_for(agent, password) for agent in agents},
        )
        with self._cond:
            self._requests[request.id] = request
            self._queues.setdefault(tenant_id, deque()).append(request)
            self._cond.notify_all()
            try:
                return self._await_answer(request)
            finally:
                self._forget(request)

    def _await_answer(self, request: _Request) -> Outcome:
        """Wait (holding the condition) for the answer, the timeout, or every agent leaving."""
        deadline = time.monotonic() + self.timeout_seconds
        while request.outcome is None:
            now = time.monotonic()
            if now >= deadline:
                return Outcome.TIMEOUT
            if request.taken_by is None:
                gone_at = self._presence_ends(request.ciphertexts)
                if gone_at is not None and gone_at <= now:
                    return Outcome.NO_AGENT
                self._cond.wait(min(deadline, gone_at or deadline) - now)
            else:
                self._cond.wait(deadline - now)
        return request.outcome

    def _present(self, agent_id: str, now: float) -> bool:
        ends = self._presence_end(agent_id)
        return ends is None or ends > now

    def _presence_end(self, agent_id: str) -> float | None:
        """When the agent stops counting as present; ``None`` while it polls or works."""
        if self._polling.get(agent_id, 0) > 0 or self._working.get(agent_id, 0) > 0:
            return None
        return self._last_seen.get(agent_id, -1e9) + self.presence_seconds

    def _presence_ends(self, agent_ids: Iterable[str]) -> float | None:
        ends = [self._presence_end(agent_id) for agent_id in agent_ids]
        return None if None in ends else max(e for e in ends if e is not None)

    def _forget(self, request: _Request) -> None:
        self._requests.pop(request.id, None)
        queue = self._queues.get(request.tenant_id)
        if queue is not None and request in queue:
            queue.remove(request)
        if request.taken_by is not None and request.outcome is None:
            self._working[request.taken_by] -= 1  # the sign-in gave up on its answer

    def waiting_polls(self, agent_id: str) -> int:
        """How many of the agent's long polls are waiting here now (one per agent worker)."""
        with self._cond:
            return self._polling.get(agent_id, 0)

    # -- the agent side -----------------------------------------------------------------

    def take(
        self, agent: Agent, wait_seconds: float, gone: threading.Event | None = None
    ) -> dict[str, Any] | None:
        """The next request this agent can decrypt, waiting up to ``wait_seconds``.

        ``gone`` is set (then :meth:`wake` called) when the agent disconnects mid-poll.
        """
        deadline = time.monotonic() + wait_seconds
        with self._cond:
            self._polling[agent.id] = self._polling.get(agent.id, 0) + 1
            try:
                while not self._closed and not (gone is not None and gone.is_set()):
                    request = self._pop_for(agent)
                    if request is not None:
                        return _wire(request, agent)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
                return None
            finally:
                self._polling[agent.id] -= 1
                self._last_seen[agent.id] = time.monotonic()
                self._cond.notify_all()  # waiting sign-ins learn that a poll ended

    def answer(self, agent: Agent, request_id: str, outcome: Outcome) -> bool:
        """Record an agent's answer; False when the request is gone (timed out) or not its."""
        if outcome not in AGENT_OUTCOMES:
            return False
        with self._cond:
            request = self._requests.get(request_id)
            if request is None or request.taken_by != agent.id or request.outcome is not None:
                return False
            request.outcome = outcome
            self._working[agent.id] -= 1
            self._last_seen[agent.id] = time.monotonic()  # it polls again right after this
            self._cond.notify_all()
        return True

    def wake(self) -> None:
        """Let every waiting poll look again (one of them was told its agent is gone)."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Release every long-poll (the server is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _pop_for(self, agent: Agent) -> _Request | None:
        queue = self._queues.get(agent.tenant_id)
        if not queue:
            return None
        for request in queue:
            if agent.id in request.ciphertexts:
                queue.remove(request)
                request.taken_by = agent.id
                self._working[agent.id] = self._working.get(agent.id, 0) + 1
                return request
        return None


def _wire(request: _Request, agent: Agent) -> dict[str, Any]:
    return {
        "id": request.id,
        "userPrincipalName": request.user_principal_name,
        "onPremisesImmutableId": request.anchor,
        "encryptedPassword": base64.b64encode(request.ciphertexts[agent.id]).decode("ascii"),
    }
