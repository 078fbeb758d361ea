"""What every client of a Graph connector's service is built from: the HTTPS client and
the retry policy, both as the connector's configuration sets them."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import httpx

from hybridsync.connectors.graph.client import RetryPolicy
from hybridsync.connectors.graph.config import GraphConfig
from hybridsync.core.ports import WaitListener
from hybridsync.errors import ConfigError


def http_client(config: GraphConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
    """The HTTPS client of one connector: its CA, timeouts and connection limit."""
    verify: ssl.SSLContext | bool = True
    if config.ca_file is not None:
        try:
            verify = ssl.create_default_context(cafile=str(config.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"connector {config.name}: cannot load ca_file: {exc}", source=str(config.ca_file)
            ) from exc
    return httpx.Client(
        transport=transport,
        verify=verify,
        timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
        limits=httpx.Limits(max_connections=config.concurrency * 2 + 2),
        headers={"User-Agent": "hybridsync-graph-connector"},
    )


def retry_policy(
    config: GraphConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    waits: WaitListener | None = None,
) -> RetryPolicy:
    """The connector's retry bounds, its name in every announced wait."""
    return RetryPolicy(
        max_retries=config.max_retries,
        max_delay=config.max_retry_delay,
        time_limit=config.retry_time_limit,
        label=config.name,
        sleep=sleep,
        clock=clock,
        waits=waits,
    )
