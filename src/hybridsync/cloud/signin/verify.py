"""The one password check the token endpoint and the sign-in page call.

It decides by the user and the tenant: cloud-only users have a cloud password (argon2);
synced users use the tenant's ``synced_user_authentication`` (``"pta"`` or ``"phs"``, a
per-user override winning). Without a setting a synced user with a stored hash uses
``phs`` (as Entra does) and one without uses ``pta``. A user who redeemed an invitation by
email signs in with one-time passcodes only: every password is refused for them. Lockout
and the disabled-account check happen here for every method. Every path (no such user,
cloud, password hash sync, pass-through) does exactly one argon2 verification and answers
a wrong password with the same words, so neither the answer nor its timing tells which names exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from hybridsync.cloud import password_hash_sync
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.passwords import hash_password, password_matches
from hybridsync.cloud.service import CloudService
from hybridsync.cloud.signin.lockout import REQUEST_SOURCE
from hybridsync.cloud.signin.outcomes import Outcome
from hybridsync.cloud.signin.service import signin_of

METHODS = ("pta", "phs")
log = structlog.get_logger(__name__)
_DECOY_HASH = hash_password("decoy password for unknown users")


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    user: dict[str, Any] | None
    method: str


def is_synced(user: dict[str, Any]) -> bool:
    return bool(user.get("onPremisesImmutableId")) or user.get("onPremisesSyncEnabled") is True


def verify_password(service: CloudService, tenant_id: str, username: str, password: str) -> Verdict:
    signin = signin_of(service)
    user = _find(service, tenant_id, username)
    account = user["id"] if user is not None else _unknown_account(username)
    attempt = signin.lockout.begin(tenant_id, account, REQUEST_SOURCE.get(), password)
    if not attempt.admitted:
        # Unknown names are counted too: a locked answer never tells a real name apart.
        return _logged(Verdict(Outcome.LOCKED_OUT, user, "lockout"), tenant_id)
    outcome = Outcome.INVALID_CREDENTIALS
    try:
        verdict = _verify_admitted(service, tenant_id, user, password)
        outcome = verdict.outcome
    finally:
        signin.lockout.finish(
            attempt,
            succeeded=outcome is Outcome.SUCCESS,
            failed=outcome is Outcome.INVALID_CREDENTIALS,
        )
    return _logged(verdict, tenant_id)


def _verify_admitted(
    service: CloudService, tenant_id: str, user: dict[str, Any] | None, password: str
) -> Verdict:
    """Exactly one argon2 verification on every path (the same work whoever the name is)."""
    if user is None or not password:
        password_matches(_DECOY_HASH, password)
        return Verdict(Outcome.INVALID_CREDENTIALS, None, "none")
    method, stored_wire = _method_and_hash(service, tenant_id, user)
    if method != "cloud":
        password_matches(_DECOY_HASH, password)
    outcome = _check(service, tenant_id, user, password, method, stored_wire)
    if outcome is Outcome.SUCCESS and user.get("accountEnabled") is False:
        outcome = Outcome.DISABLED
    return Verdict(outcome, user, method)


def _unknown_account(username: str) -> str:
    return "unknown:" + username.strip().casefold()


def method_for(service: CloudService, tenant_id: str, user: dict[str, Any]) -> str:
    return _method_and_hash(service, tenant_id, user)[0]


def _method_and_hash(
    service: CloudService, tenant_id: str, user: dict[str, Any]
) -> tuple[str, str | None]:
    """The method, and for ``phs`` the stored hash: read once, and only when it decides."""
    if signin_of(service).otp.email_of(tenant_id, user["id"]) is not None:
        return "otp", None
    if not is_synced(user):
        return "cloud", None
    store = signin_of(service).store
    chosen = store.user_method(tenant_id, user["id"]) or store.tenant_method(tenant_id)
    if chosen == "pta":
        return "pta", None
    stored_wire = _stored_hash(service, tenant_id, user["id"])
    if chosen == "phs" or stored_wire is not None:
        return "phs", stored_wire
    return "pta", None


def _check(
    service: CloudService,
    tenant_id: str,
    user: dict[str, Any],
    password: str,
    method: str,
    stored_wire: str | None,
) -> Outcome:
    if method == "cloud":
        stored = service.users.password_hash(tenant_id, user["id"])
        matched = password_matches(stored or _DECOY_HASH, password) and stored is not None
        return Outcome.SUCCESS if matched else Outcome.INVALID_CREDENTIALS
    if method == "otp":  # the local password no longer counts, whatever it is
        return Outcome.INVALID_CREDENTIALS
    if method == "phs":
        if stored_wire is None:
            return Outcome.INVALID_CREDENTIALS
        matched = bool(password_hash_sync.verify_synced_password_hash(stored_wire, password))
        return Outcome.SUCCESS if matched else Outcome.INVALID_CREDENTIALS
    return signin_of(service).pta.validate(
        tenant_id,
        str(user.get("userPrincipalName", "")),
        str(user.get("onPremisesImmutableId") or ""),
        password,
    )


def _find(service: CloudService, tenant_id: str, username: str) -> dict[str, Any] | None:
    if "@" not in username:
        return None
    try:
        return service.users.get(tenant_id, username.strip())
    except GraphError:
        return None


def _stored_hash(service: CloudService, tenant_id: str, user_id: str) -> str | None:
    # Called through the module so a test can stand in for password hash sync's functions.
    stored = password_hash_sync.stored_password_hash(service, tenant_id, user_id)
    return str(stored) if stored else None


def _logged(verdict: Verdict, tenant_id: str) -> Verdict:
    # Who and how, never with what: the password is not an argument here on purpose.
    user_id = verdict.user["id"] if verdict.user else None
    log.info("signin.verdict", tenant=tenant_id, user=user_id, method=verdict.method,
             outcome=str(verdict.outcome))  # fmt: skip
    return verdict
