"""Fixtures for the Graph connector's fast tests: a fake Graph behind MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.unit.connectors.graph.fake_graph import FakeGraph
from tests.unit.connectors.graph.support import FakeTokens, Sleeps, config

from hybridsync.connectors.graph import ExportProgress, GraphConnector


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


ConnectorFactory = Callable[..., GraphConnector]


@pytest.fixture
def make_connector(
    graph: FakeGraph, tokens: FakeTokens, sleeps: Sleeps
) -> Iterator[ConnectorFactory]:
    made: list[GraphConnector] = []

    def make(
        handler: Callable[[httpx.Request], httpx.Response] | None = None,
        progress: Callable[[ExportProgress], None] | None = None,
        **overrides: Any,
    ) -> GraphConnector:
        connector = GraphConnector(
            config(**overrides),
            transport=httpx.MockTransport(handler or graph),
            tokens=tokens,
            progress=progress,
            sleep=sleeps,
            clock=sleeps.clock,
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
