"""GraphClient: sends requests to Graph and waits out throttling. It decides nothing else.

Reads are retried on throttling, busy answers and lost connections (reading twice is
harmless). ``$batch`` is sent once per call: the caller decides what to do with each item.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from hybridsync.connectors.graph.errors import (
    SERVER_ERRORS,
    GraphError,
    OutcomeUnknown,
    RequestNotSent,
    Verdict,
    classify,
    parse_error,
    retry_after,
    transport_errors,
)
from hybridsync.core.ports import RetryWait, WaitListener
from hybridsync.errors import FatalConnectorError, TransientConnectorError, UnreachableError
from hybridsync.json_types import JsonObject

log = structlog.get_logger(__name__)


def _log_wait(line: str) -> None:
    log.warning(line)


class WaitRelay:
    """Passes retry waits on to whoever listens at the moment (the engine, during a run)."""

    def __init__(self) -> None:
        self.listener: WaitListener | None = None

    def waiting(self, wait: RetryWait) -> None:
        listener = self.listener
        if listener is not None:
            listener.waiting(wait)

    def waited(self, wait: RetryWait) -> None:
        listener = self.listener
        if listener is not None:
            listener.waited(wait)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries honouring ``Retry-After``, with jitter so workers do not align.

    A request is retried at most ``max_retries`` times and for at most ``time_limit``
    seconds in all; each wait is announced through ``notify`` (a warning on stderr) with
    what failed, which retry comes and when.
    """

    max_retries: int = 8
    max_delay: float = 120.0
    base_delay: float = 1.0
    time_limit: float = 300.0
    label: str = ""
    """Who is waiting (the connector's name), at the start of every announced wait."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    notify: Callable[[str], None] = _log_wait
    waits: WaitListener | None = None
    """Told when each wait starts and ends (the progress display shows it meanwhile)."""
    jitter: Callable[[float], float] = field(default=lambda delay: random.uniform(0, delay / 10))

    def delay(self, attempt: int, hinted: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: the hint, else exponential."""
        base = hinted if hinted is not None else self.base_delay * 2**attempt
        base = min(base, self.max_delay)
        return base + self.jitter(base)

    def wait(self, attempt: int, hinted: float | None, failure: str = "") -> None:
        """Announce and wait out the pause before retry ``attempt + 1``."""
        delay = self.delay(attempt, hinted)
        if failure:
            who = f"{self.label}: " if self.label else ""
            self.notify(
                f"{who}{failure}; retry {attempt + 1} of {self.max_retries}, "
                f"next try in {delay:.1f} s"
            )
        if self.waits is None:
            self.sleep(delay)
            return
        wait = RetryWait(failure, attempt + 1, self.max_retries, delay)
        self.waits.waiting(wait)
        try:
            self.sleep(delay)
        finally:
            self.waits.waited(wait)

    def may_retry(self, attempt: int, started: float, hinted: float | None) -> bool:
        """Whether retry ``attempt + 1`` is allowed: under the count and, waiting the
        shortest possible delay, within the time limit."""
        if attempt >= self.max_retries:
            return False
        shortest = min(
            hinted if hinted is not None else self.base_delay * 2**attempt, self.max_delay
        )
        return self.clock() - started + shortest <= self.time_limit

    def gave_up(self, attempts: int, started: float, last: str) -> str:
        """The message of a request that is not retried any more (``last``: its failure)."""
        if attempts == 0:
            return last
        seconds = self.clock() - started
        return f"{last} (gave up after {attempts} retries in {seconds:.0f} s)"


@dataclass(frozen=True, slots=True)
class BatchItemResponse:
    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

    def error(self) -> GraphError:
        return parse_error(self.status, self.body)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class GraphClient:
    """A thin sender over one ``httpx.Client`` (thread-safe, shared by batch workers)."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        auth: httpx.Auth,
        policy: RetryPolicy,
    ):
        self._http = http
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self.policy = policy
        self._reached = False
        """Whether the service ever answered: before it has, failing to connect means a
        wrong name or address, not a passing outage, and is not retried."""

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base_url}{path}"

    def owns(self, url: str) -> bool:
        """Whether a URL points into this service (a watermark must, or we would send
        our bearer token to whatever host it names)."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc) and (
            theirs.path.startswith(mine.path + "/")
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            with transport_errors(f"{method} {urlsplit(url).path}"):
                response = self._http.request(method, url, auth=self._auth, **kwargs)
        except RequestNotSent as exc:
            if not self._reached:
                raise UnreachableError(str(exc)) from exc
            raise
        self._reached = True
        return response

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET with retries; returns the final answer, successful or not.

        Raises:
            FatalConnectorError: still throttled or unreachable after the bounded retries,
                or the token was refused twice.
        """
        return self.send_repeatable("GET", url, headers=headers)

    def send_repeatable(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request that may safely be sent twice (a read, or a write that replaces what
        it writes), retried on throttling (429/503 with ``Retry-After``), server errors and
        lost connections; returns the final answer, successful or not.

        Raises:
            FatalConnectorError: still throttled or unreachable after the bounded retries,
                or the token was refused twice.
        """
        url = self.url(url)
        what = f"{method} {urlsplit(url).path}"
        started = self.policy.clock()
        attempt = 0
        while True:
            try:
                response = self._send(method, url, **kwargs)
            except (RequestNotSent, OutcomeUnknown) as exc:
                last: str = str(exc)
                hinted = None
            else:
                # Classified as a read: resending a repeatable request is harmless.
                verdict = classify(response.status_code, "GET")
                if verdict not in (Verdict.RETRY, Verdict.UNKNOWN):
                    if verdict is Verdict.REAUTH:
                        raise FatalConnectorError(self._refused(response))
                    return response
                last = f"{what}: {parse_error(response.status_code, _json(response)).describe()}"
                hinted = retry_after(response.headers)
            if not self.policy.may_retry(attempt, started, hinted):
                raise FatalConnectorError(self.policy.gave_up(attempt, started, last))
            self.policy.wait(attempt, hinted, last)
            attempt += 1

    def get_json(self, url: str) -> JsonObject:
        """GET that must succeed.

        Raises:
            FatalConnectorError: any error answer (with Graph's code and message).
        """
        response = self.get(url)
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict):
            error = parse_error(response.status_code, body)
            raise FatalConnectorError(f"GET {urlsplit(url).path}: {error.describe()}")
        return body

    def pages(self, url: str) -> Iterator[JsonObject]:
        """Every page of a collection, following ``@odata.nextLink``."""
        next_url: str | None = url
        while next_url is not None:
            page = self.get_json(next_url)
            yield page
            next_url = page.get("@odata.nextLink")

    def batch(self, requests: Sequence[JsonObject]) -> list[BatchItemResponse]:
        """One ``POST /$batch``, resent while the whole batch is throttled or not sent.

        Raises:
            OutcomeUnknown: the batch went out and no answer came back.
            FatalConnectorError: the batch itself was refused (credentials, malformed).
        """
        body = {"requests": list(requests)}
        unreachable = False
        started = self.policy.clock()
        attempt = 0
        while True:
            try:
                response = self._send("POST", self.url("/$batch"), json=body)
            except RequestNotSent as exc:
                last, hinted, unreachable = str(exc), None, True
            else:
                unreachable = False
                if response.status_code == 200:
                    return self._batch_items(response)
                if response.status_code in SERVER_ERRORS:
                    # Some of the writes may have been done before the server failed.
                    raise OutcomeUnknown(f"POST /$batch: server error {response.status_code}")
                verdict = classify(response.status_code, "GET")  # the batch holds no state
                error = parse_error(response.status_code, _json(response))
                if verdict is not Verdict.RETRY:
                    raise FatalConnectorError(f"POST /$batch refused: {error.describe()}")
                last, hinted = f"POST /$batch: {error.describe()}", retry_after(response.headers)
            if not self.policy.may_retry(attempt, started, hinted):
                break
            self.policy.wait(attempt, hinted, last)
            attempt += 1
        message = self.policy.gave_up(attempt, started, last)
        if unreachable:
            raise FatalConnectorError(message)
        raise TransientConnectorError(message)

    @staticmethod
    def _batch_items(response: httpx.Response) -> list[BatchItemResponse]:
        body = _json(response)
        items = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise OutcomeUnknown("POST /$batch: the answer holds no responses")
        return [
            BatchItemResponse(
                id=str(item.get("id")),
                status=int(item.get("status", 0)),
                headers=item.get("headers") or {},
                body=item.get("body"),
            )
            for item in items
        ]

    @staticmethod
    def _refused(response: httpx.Response) -> str:
        error = parse_error(response.status_code, _json(response))
        return f"the service refused the access token: {error.describe()}"
