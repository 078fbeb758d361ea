"""The HTML sign-in page of the authorization-code flow.

One message for a wrong username and a wrong password alike, so the page never tells which
accounts exist; the other outcomes (disabled, locked out, no agent...) are shown only after
a correct password or a lockout, as Entra does.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from hybridsync.cloud.signin import csrf
from hybridsync.cloud.signin.outcomes import Outcome, message_of

WRONG_CREDENTIALS = "Your account or password is incorrect. Please try again."
REJECTED = (
    "This sign-in form has expired or was not sent by this site, so it was not accepted."
    " Go back to the application and sign in again."
)
HEADERS = {
    "Cache-Control": "no-store",
    # The page takes a password: no framing (clickjacking), no scripts, no outside content.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Referrer-Policy": "no-referrer",
}

_HEAD = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; background: #f2f2f2; }}
main {{ max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; }}
label, input, button {{ display: block; width: 100%; margin-top: .5rem; box-sizing: border-box; }}
.error {{ color: #a80000; }}
</style></head>
<body><main>
<h1>Sign in</h1>
<p>{tenant}</p>
{error}
"""
_PAGE = (
    _HEAD
    + """<form method="post" action="{action}">
{hidden}
<label for="login">Email or username</label>
<input id="login" name="login" type="email" autocomplete="username" required value="{login}">
<label for="passwd">Password</label>
<input id="passwd" name="passwd" type="password" autocomplete="current-password" required>
<button id="signin" type="submit">Sign in</button>
<button id="emailcode" type="submit" name="step" value="sendcode" formnovalidate>
Email me a sign-in code</button>
</form>
</main></body></html>
"""
)
_REJECTED_PAGE = _HEAD + "</main></body></html>\n"
HEAD = _HEAD
"""The page's head and title block (``{tenant}``, ``{error}``), for the other sign-in pages."""


def error_text(outcome: Outcome) -> str:
    if outcome is Outcome.INVALID_CREDENTIALS:
        return WRONG_CREDENTIALS
    return message_of(outcome)


def render(
    *,
    tenant_name: str,
    action: str,
    params: Mapping[str, str],
    csrf_token: str,
    login: str = "",
    error: str = "",
) -> str:
    fields = {**params, csrf.FIELD: csrf_token}
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    return _PAGE.format(
        tenant=escape(tenant_name),
        error=error_block(error),
        action=escape(action),
        hidden=hidden,
        login=escape(login),
    )


def render_rejected(*, tenant_name: str) -> str:
    """The page for a post without a valid CSRF token (no form: the flow starts again)."""
    return _REJECTED_PAGE.format(tenant=escape(tenant_name), error=error_block(REJECTED))


def error_block(text: str) -> str:
    return f'<p class="error" role="alert" id="error">{escape(text)}</p>' if text else ""
