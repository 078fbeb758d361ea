"""Nested transactions, as every store keeps them.

The outermost ``transaction()`` is the unit of work: it begins it, and commits it or
undoes it. A nested one joins the outer one (an engine step calls the store's methods,
which open their own), so only the outermost decides; a failure inside a nested one
reaches the outer one as the exception it raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class NestedTransactions:
    """``transaction()`` for a store that says how to begin, commit and undo its work."""

    _depth: int
    """How many ``transaction()`` blocks are open; 0 outside any."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin_work()
        self._depth = 1
        try:
            yield
            self._finish_work()
        except BaseException:
            self._depth = 0
            self._undo_work()
            raise
        self._depth = 0
        self._commit_work()

    def _begin_work(self) -> None:
        """Start the unit of work (nothing, for a store that needs no start)."""

    def _finish_work(self) -> None:
        """Last writes of the unit of work; a failure here undoes it all."""

    def _undo_work(self) -> None:
        raise NotImplementedError

    def _commit_work(self) -> None:
        raise NotImplementedError
