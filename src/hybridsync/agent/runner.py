"""The agent's loop: long-poll the cloud, decrypt, validate, answer.

Outbound HTTPS only. Each worker thread holds one long-poll; a request is decrypted with
the agent's private key (RSA-OAEP, SHA-256), validated by the checker, and the outcome (only
the outcome) is posted back. A checker that cannot reach AD gives no answer: the sign-in
then fails with the cloud's timeout message rather than a wrong verdict.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import httpx
import structlog
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from hybridsync.agent.state import AgentState, tls_context
from hybridsync.errors import HybridsyncError

Checker = Callable[[str, str], str]
"""``(onPremisesImmutableId, password) -> outcome`` (``success``, ``invalid_credentials``...)."""

log = structlog.get_logger(__name__)
POLL_SECONDS = 20.0
RETRY_SECONDS = 1.0
ANSWER_SECONDS = 10.0
"""How long a stop waits for the answers in flight (the cloud waits 10 s for an answer)."""


class AgentRunner:
    def __init__(
        self,
        state: AgentState,
        checker: Checker,
        *,
        workers: int = 1,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.state = state
        self.poll_seconds = poll_seconds
        self._checker = checker
        self._key = state.private_key()
        self._workers = workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.answered = 0
        self._count_lock = threading.Lock()
        self._answering = 0
        self._answers_done = threading.Condition(self._count_lock)

    def start(self) -> None:
        for number in range(self._workers):
            thread = threading.Thread(target=self.run, name=f"pta-agent-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, *, wait_for_polls: bool = True) -> None:
        """Stop polling. ``wait_for_polls=False`` waits only for the answers in flight: a
        worker idle in its long poll is a daemon thread that ends with the process (a
        command that exits), instead of holding the stop for up to ``poll_seconds``."""
        self._stop.set()
        if not wait_for_polls:
            with self._answers_done:
                self._answers_done.wait_for(lambda: self._answering == 0, ANSWER_SECONDS)
            return
        for thread in self._threads:
            thread.join(timeout=self.poll_seconds + 5)
        self._threads.clear()

    def run(self) -> None:
        """Poll until stopped (one worker)."""
        verify = tls_context(self.state.ca_file)
        base = f"{self.state.cloud_url}/{self.state.tenant}/pta/requests"
        timeout = httpx.Timeout(10.0, read=self.poll_seconds + 10)
        with httpx.Client(verify=verify, timeout=timeout) as http:
            while not self._stop.is_set():
                try:
                    self._poll_once(http, base)
                except (httpx.HTTPError, HybridsyncError) as exc:
                    log.warning("agent.poll_failed", error=type(exc).__name__, detail=str(exc))
                    self._stop.wait(RETRY_SECONDS)

    def _poll_once(self, http: httpx.Client, base: str) -> None:
        headers = {"Authorization": f"Bearer {self.state.assertion(self._key)}"}
        answer = http.get(base, params={"wait": self.poll_seconds}, headers=headers)
        if answer.status_code == 204:
            return
        if answer.status_code != 200:
            raise HybridsyncError(f"the cloud answered the poll with {answer.status_code}")
        with self._count_lock:
            self._answering += 1
        try:
            self._answer(http, base, answer.json(), headers)
        finally:
            with self._answers_done:
                self._answering -= 1
                self._answers_done.notify_all()

    def _answer(
        self, http: httpx.Client, base: str, request: dict[str, str], headers: dict[str, str]
    ) -> None:
        started = time.monotonic()
        outcome = self._validate(request["onPremisesImmutableId"], request["encryptedPassword"])
        with self._count_lock:  # counted before the answer goes, so the sign-in sees it
            self.answered += 1
        reply = http.post(f"{base}/{request['id']}", json={"outcome": outcome}, headers=headers)
        log.info("agent.answered", request=request["id"], outcome=outcome, status=reply.status_code,
                 ms=round((time.monotonic() - started) * 1000, 1))  # fmt: skip

    def _validate(self, anchor: str, encrypted: str) -> str:
        oaep = padding.OAEP(
            mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
        password = self._key.decrypt(base64.b64decode(encrypted), oaep).decode("utf-8")
        return self._checker(anchor, password)
