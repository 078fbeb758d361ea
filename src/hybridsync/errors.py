"""The one exception tree of hybridsync.

::

    HybridsyncError
    ├── ConfigError                 bad configuration or rule files (exit status 3)
    ├── NotFoundError               the object, run or application asked for does not exist
    ├── ExpressionError
    │   ├── ExpressionSyntaxError   the text does not compile (line, column, excerpt)
    │   └── ExpressionEvalError     evaluation failed for one object
    │       └── ExpressionUserError raised by the expression itself with Error("...")
    ├── SyncError                   a per-object sync failure (join ambiguity, bad userType...)
    ├── PasswordHashFormatError     a derived password hash is not in the v1;PPH1_MD4 format
    ├── RunStopped                  stopped on purpose (threshold, error limit, refused import)
    ├── ConnectorError
    │   ├── TransientConnectorError retry later: the remote side may succeed next time
    │   ├── ObjectRejectedError     this object was refused; record it and go on
    │   └── FatalConnectorError     stop the run: nothing more can succeed
    │       └── UnreachableError    the server cannot be reached (name, connection, TLS)
    └── StoreError
        ├── ConflictError           another writer changed what we read
        └── MigrationError          the database schema cannot be brought up to date

The engine branches on the three connector families, never on concrete classes.
Foreign exceptions (python-ldap, httpx, SQLAlchemy) are translated exactly once, at the
adapter boundary, with ``raise ... from exc``.
"""

from __future__ import annotations


class HybridsyncError(Exception):
    """Base class of every error hybridsync raises on purpose."""


class ConfigError(HybridsyncError):
    """A configuration or rule file is invalid.

    Attributes:
        source: the file (or other origin) the error was found in, if known.
        line: the 1-based line in that file, if known.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = source or ""
        if source and line is not None:
            where = f"{source}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message


class NotFoundError(HybridsyncError):
    """What a command was asked about (an object, a run, an application) does not exist."""


class AmbiguousKeyError(HybridsyncError):
    """A key (a UPN) names more than one object: the caller must name one (a DN, an anchor)."""


class ExpressionError(HybridsyncError):
    """Any failure of the rule expression language."""


class ExpressionSyntaxError(ExpressionError):
    """An expression does not compile.

    Attributes:
        message: what is wrong, without position.
        line: 1-based line of the error in the expression text.
        column: 1-based column of the error.
        excerpt: the offending line with a caret under the column.
    """

    def __init__(self, message: str, *, line: int, column: int, excerpt: str = ""):
        self.message = message
        self.line = line
        self.column = column
        self.excerpt = excerpt
        text = f"{message} (line {line}, column {column})"
        if excerpt:
            text = f"{text}\n{excerpt}"
        super().__init__(text)


class ExpressionEvalError(ExpressionError):
    """Evaluating a compiled expression failed for one object.

    The engine records it against the object (and the rule and attribute it sets) and
    the run goes on.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        function: str | None = None,
    ):
        self.message = message
        self.line = line
        self.column = column
        self.function = function
        super().__init__(message)


class ExpressionUserError(ExpressionEvalError):
    """The expression called ``Error("...")``: the message is the rule author's."""


class SyncError(HybridsyncError):
    """A synchronization decision failed for one object (recorded, run goes on)."""


class PasswordHashFormatError(HybridsyncError, ValueError):
    """A derived password hash (``v1;PPH1_MD4,...``) is malformed; the message never
    repeats the hash itself."""


class RunStopped(HybridsyncError):
    """A run stopped on purpose before completing.

    Attributes:
        status: the run status, for example ``stopped-deletion-threshold-exceeded``.
    """

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


class ConnectorError(HybridsyncError):
    """A connector could not do what it was asked."""


class TransientConnectorError(ConnectorError):
    """The remote side may succeed if asked again later (timeouts, throttling, 503)."""


class ObjectRejectedError(ConnectorError):
    """The remote side refused one object; the rest of the run is unaffected."""


class FatalConnectorError(ConnectorError):
    """Nothing more can succeed in this run (bad credentials, TLS failure, unreachable)."""


class UnreachableError(FatalConnectorError):
    """The server cannot be reached at all: its name does not resolve, it refuses the
    connection, or its TLS certificate is not trusted. Retrying for minutes would not help."""


class ChangeEventsUnavailable(ConnectorError):
    """The source cannot announce changes (the server refuses the request): poll it."""


class StoreError(HybridsyncError):
    """The store failed."""


class ConflictError(StoreError):
    """Another writer changed the data this unit of work read."""


class MigrationError(StoreError):
    """The store's schema cannot be migrated to the version this code needs."""


def os_error_reason(exc: OSError) -> str:
    """Why a file could not be used, in words (``no such file or directory``): never
    Python's ``[Errno 2] No such file or directory: 'x'`` (the caller names the file)."""
    reason = exc.strerror or exc.__class__.__name__
    return reason[:1].lower() + reason[1:]


def error_text(exc: BaseException) -> str:
    """An exception as a message for a person: an OSError names its file and the reason
    in words; any other exception is its own message."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return where + os_error_reason(exc)
    return str(exc)
