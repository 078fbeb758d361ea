"""The outcomes of a password check and the OAuth errors they become."""

from __future__ import annotations

from enum import StrEnum

from hybridsync.cloud.errors import OAuthError


class Outcome(StrEnum):
    SUCCESS = "success"
    INVALID_CREDENTIALS = "invalid_credentials"
    DISABLED = "disabled"
    LOCKED_OUT = "locked_out"
    PASSWORD_EXPIRED = "password_expired"
    MUST_CHANGE = "must_change"
    NO_AGENT = "no_agent"
    TIMEOUT = "timeout"
    AD_UNAVAILABLE = "ad_unavailable"
    """An agent answered that AD did not answer in time (or could not be reached)."""


# Entra's AADSTS codes. The invalid-credentials text is the same whether or not the user
# exists, so an answer never tells which usernames are real.
_ERRORS: dict[Outcome, tuple[int, str]] = {
    Outcome.INVALID_CREDENTIALS: (
        50126,
        "Error validating credentials due to invalid username or password.",
    ),
    Outcome.DISABLED: (50057, "The user account is disabled."),
    Outcome.LOCKED_OUT: (
        50053,
        "Your account is locked because you've tried to sign in too many times with an"
        " incorrect user ID or password.",
    ),
    Outcome.PASSWORD_EXPIRED: (50055, "The password is expired."),
    Outcome.MUST_CHANGE: (50144, "The user's password must be changed before signing in."),
    Outcome.NO_AGENT: (
        80001,
        "The authentication agent is unable to connect to Active Directory: no pass-through"
        " authentication agent is connected for this tenant.",
    ),
    Outcome.TIMEOUT: (
        80002,
        "The authentication agent's password validation request timed out: no agent answered.",
    ),
    Outcome.AD_UNAVAILABLE: (
        80001,
        "The authentication agent is unable to connect to Active Directory: the domain"
        " controller did not answer in time. Please try again later.",
    ),
}


def message_of(outcome: Outcome) -> str:
    return _ERRORS[outcome][1]


# No agent connected, none answered in time, or AD did not answer the agent: each passes
# within seconds of an agent (re)connecting or the DC recovering, so clients are told when
# to try again.
TRANSIENT = frozenset({Outcome.NO_AGENT, Outcome.TIMEOUT, Outcome.AD_UNAVAILABLE})
RETRY_AFTER_SECONDS = 1


def oauth_error(outcome: Outcome) -> OAuthError:
    """The token endpoint's answer for a failed check (``invalid_grant``, 400)."""
    code, description = _ERRORS[outcome]
    retry_after = RETRY_AFTER_SECONDS if outcome in TRANSIENT else None
    return OAuthError("invalid_grant", code, description, retry_after=retry_after)
