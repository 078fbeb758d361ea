"""The pass-through queue: sign-ins wait here until one agent of the tenant answers.

A sign-in encrypts the password once per connected agent (RSA-OAEP), queues the request and
waits for an answer up to the timeout; agents keep an outbound long-poll open and take
requests. Only ciphertext is queued, only in memory; an answer carries just the outcome.
An agent counts as connected while it polls or has polled within ``presence_seconds``.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hybridsync.cloud.signin.agents import Agent, AgentRegistry, encrypt_for
from hybridsync.cloud.signin.outcomes import Outcome

AGENT_OUTCOMES = frozenset(Outcome) - {Outcome.NO_AGENT, Outcome.TIMEOUT}


@dataclass
class _Request:
    id: str
    tenant_id: str
    user_principal_name: str
    anchor: str
    ciphertexts: dict[str, bytes]
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    taken_by: str | None = None


class PassThroughQueue:
    def __init__(
        self,
        registry: AgentRegistry,
        *,
        timeout_seconds: float = 10.0,
        presence_seconds: float = 15.0,
    ) -> None:
        self.registry = registry
        self.timeout_seconds = timeout_seconds
        self.presence_seconds = presence_seconds
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Request]] = {}
        self._requests: dict[str, _Request] = {}
        self._polling: dict[str, int] = {}
        self._last_seen: dict[str, float] = {}
        self._closed = False

    # -- the sign-in side ---------------------------------------------------------------

    def connected_agents(self, tenant_id: str) -> list[Agent]:
        agents = self.registry.agents_of(tenant_id)  # a database read: not under the lock
        now = time.monotonic()
        with self._cond:
            return [
                agent
                for agent in agents
                if self._polling.get(agent.id, 0) > 0
                or now - self._last_seen.get(agent.id, -1e9) < self.presence_seconds
            ]

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
        answered = request.done.wait(self.timeout_seconds)
        with self._cond:
            self._requests.pop(request.id, None)
            queue = self._queues.get(tenant_id)
            if queue is not None and request in queue:
                queue.remove(request)
        if not answered or request.outcome is None:
            return Outcome.TIMEOUT
        return request.outcome

    def waiting_polls(self, agent_id: str) -> int:
        """How many of the agent's long polls are waiting here now (one per agent worker)."""
        with self._cond:
            return self._polling.get(agent_id, 0)

    # -- the agent side -----------------------------------------------------------------

    def take(self, agent: Agent, wait_seconds: float) -> dict[str, Any] | None:
        """The next request this agent can decrypt, waiting up to ``wait_seconds``."""
        deadline = time.monotonic() + wait_seconds
        with self._cond:
            self._polling[agent.id] = self._polling.get(agent.id, 0) + 1
            try:
                while not self._closed:
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

    def answer(self, agent: Agent, request_id: str, outcome: Outcome) -> bool:
        """Record an agent's answer; False when the request is gone (timed out) or not its."""
        if outcome not in AGENT_OUTCOMES:
            return False
        with self._cond:
            request = self._requests.get(request_id)
            if request is None or request.taken_by != agent.id:
                return False
            request.outcome = outcome
        request.done.set()
        return True

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
                return request
        return None


def _wire(request: _Request, agent: Agent) -> dict[str, Any]:
    return {
        "id": request.id,
        "userPrincipalName": request.user_principal_name,
        "onPremisesImmutableId": request.anchor,
        "encryptedPassword": base64.b64encode(request.ciphertexts[agent.id]).decode("ascii"),
    }
