"""Errors of the cloud directory, each carrying the wire answer it becomes.

::

    HybridsyncError
    └── CloudError
        ├── GraphError          a Microsoft Graph error envelope (status, code, message, details)
        ├── OAuthError          an OAuth 2.0 token-endpoint error (error, AADSTS code)
        └── CloudSetupError     tenant/application administration refused (CLI exit status 3)

Messages reproduce the ones Microsoft Graph sends (see docs/cloud.md), because clients log
them and people search for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hybridsync.errors import HybridsyncError


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of ``error.details``."""

    code: str
    message: str
    target: str | None = None


class CloudError(HybridsyncError):
    """Any failure the cloud directory reports on purpose."""


class GraphError(CloudError):
    """An error answered with Graph's OData error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.headers = dict(headers or {})


class OAuthError(CloudError):
    """An error of the token endpoint, in the AADSTS style."""

    def __init__(
        self,
        error: str,
        aadsts: int,
        description: str,
        *,
        status: int = 400,
        retry_after: int | None = None,
        suberror: str | None = None,
    ) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}")
        self.suberror = suberror
        """Entra's finer reason (``consent_required``), when it gives one."""
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.status = status
        self.retry_after = retry_after
        """Seconds after which the same request may succeed (a transient failure), if any."""


class CloudSetupError(CloudError):
    """An administrative request (init, app add, domain add) cannot be done."""


class CloudNotFoundError(CloudSetupError):
    """An administrative request names a user or application the tenant does not hold."""


def bad_request(message: str, *details: ErrorDetail) -> GraphError:
    return GraphError(400, "Request_BadRequest", message, details=details)


def invalid_value(prop: str, resource: str = "User") -> GraphError:
    message = f"Invalid value specified for property '{prop}' of resource '{resource}'."
    return bad_request(message, ErrorDetail("InvalidValue", message, prop))


def invalid_values(prop: str) -> GraphError:
    message = "One or more properties contains invalid values."
    return bad_request(message, ErrorDetail("InvalidValue", message, prop))


def required_missing(prop: str) -> GraphError:
    return bad_request(f"Property {prop} value is required but is empty or missing.")


def unknown_property(prop: str, *, extensions: bool = False) -> GraphError:
    """A property the resource does not declare (``extensions``: it takes extension ones)."""
    declared = "a declared property or extension property" if extensions else "a declared property"
    return bad_request(f"Property '{prop}' does not exist as {declared}.")


def read_only(prop: str) -> GraphError:
    return bad_request(f"Property '{prop}' is read-only and cannot be set.")


def conflict(prop: str) -> GraphError:
    message = f"Another object with the same value for property {prop} already exists."
    return bad_request(message, ErrorDetail("ObjectConflict", message, prop))


def not_found(resource_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{resource_id}' does not exist or one of its queried reference-property"
        " objects are not present.",
    )


def access_denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def unauthenticated(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message)


def unsupported_query(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


ON_PREMISES_MASTERED = (
    "Unable to update the specified properties for on-premises mastered Directory Sync objects"
    " or objects currently undergoing migration."
)
