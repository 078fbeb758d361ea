"""The pages of the email one-time passcode: "send me a code" and "enter the code".

They share the sign-in page's look and headers (no framing, no scripts). Every field the
flow carries is a hidden input; the CSRF token is one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from hybridsync.cloud.signin.page import HEAD, error_block

WRONG_CODE = "That code didn't work. Check the code, or send a new one, and try again."
NO_RELAY = "This directory cannot send email codes (no SMTP relay is configured)."
NOT_SENT = "The code could not be sent. Please try again in a few minutes."

_SEND = (
    HEAD
    + """<p id="notice">{notice}</p>
<form method="post" action="{action}">
{hidden}
<button id="sendcode" type="submit" name="step" value="sendcode">Send code</button>
</form>
</main></body></html>
"""
)
_CODE = (
    HEAD
    + """<p id="notice">{notice}</p>
<form method="post" action="{action}">
{hidden}
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="16"
 required>
<button id="verifycode" type="submit" name="step" value="verifycode">Sign in</button>
<button id="resend" type="submit" name="step" value="sendcode" formnovalidate>
Send a new code</button>
</form>
</main></body></html>
"""
)


def _hidden(fields: Mapping[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def render_send(
    *, tenant_name: str, action: str, fields: Mapping[str, str], notice: str, error: str = ""
) -> str:
    return _SEND.format(
        tenant=escape(tenant_name), error=error_block(error), notice=escape(notice),
        action=escape(action), hidden=_hidden(fields),
    )  # fmt: skip


def render_code(
    *, tenant_name: str, action: str, fields: Mapping[str, str], notice: str, error: str = ""
) -> str:
    return _CODE.format(
        tenant=escape(tenant_name), error=error_block(error), notice=escape(notice),
        action=escape(action), hidden=_hidden(fields),
    )  # fmt: skip


def masked(email: str) -> str:
    """``k***@fabrikam.example``: enough for the user to recognize the address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
