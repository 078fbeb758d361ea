"""HTTP sessions that tests hand to msal, closed when the test ends.

msal keeps its ``requests`` session (and its keep-alive sockets) for the application's
lifetime; a test that drops the application leaks a socket, which the garbage collector
later reports in whichever test happens to be running. Tests register such sessions here
and the root conftest closes them at teardown.
"""

from __future__ import annotations

from typing import Protocol, TypeVar


class _Closable(Protocol):
    def close(self) -> None: ...


_Session = TypeVar("_Session", bound=_Closable)
_open: list[_Closable] = []


def closed_after_test(session: _Session) -> _Session:
    """Register ``session`` to be closed when the current test ends; return it."""
    _open.append(session)
    return session


def close_registered_sessions() -> None:
    while _open:
        _open.pop().close()
