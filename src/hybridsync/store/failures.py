"""Database failures become :class:`StoreError`, once, where SQLAlchemy raises them.

A lost connection (the server restarted, the session terminated, the network gone), a
full disk or a refused statement would otherwise reach the engine and the command line
as a SQLAlchemy traceback. The engine's ``handle_error`` hook sees every one of them,
after SQLAlchemy has invalidated a connection that is gone, so nothing in the store's
hot paths pays for the translation.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from hybridsync.errors import StoreError

__all__ = ["StoreConnectionLost", "translate_errors"]


class StoreConnectionLost(StoreError):
    """The connection to the store's database was lost (or could not be made again).

    What the transaction in progress wrote is rolled back by the database; everything
    committed before stays, so the next run completes the work.
    """


def translate_errors(engine: Engine, where: str) -> None:
    """Raise a ``StoreError`` naming the store ``where`` for every database error."""

    def _translate(context: ExceptionContext) -> None:
        if context.sqlalchemy_exception is None:
            return  # not the database's (an interrupt, a bug): raised as it is
        original = context.original_exception
        reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
        if context.execution_context is None:  # connecting, or connecting again
            raise StoreConnectionLost(f"cannot connect to the store {where}: {reason}")
        if context.is_disconnect:
            raise StoreConnectionLost(
                f"lost the connection to the store {where}: {reason}. Whatever was "
                "committed is kept; the next run completes the work"
            )
        raise StoreError(f"the store {where} failed: {reason}")

    event.listen(engine, "handle_error", _translate)
