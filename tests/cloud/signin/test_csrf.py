"""Login CSRF on the sign-in page, over real HTTPS: a post counts only with the token the page
put in its form, bound to this browser's cookie and to this authorization request."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from structlog.testing import capture_logs
from tests.support.cloud_server import CloudTenant
from tests.support.signin import public_client

from hybridsync.cloud.signin import csrf
from hybridsync.cloud.signin.page import REJECTED, WRONG_CREDENTIALS

CLOUD_PASSWORD = "Str0ng!Passw0rd"  # CloudTenant.user_body's
COOKIE = "__Host-hybridsync-signin"
REDIRECT = "http://localhost:8400/"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def cloud_user(tenant: CloudTenant) -> dict[str, Any]:
    service = tenant.server.service
    return service.users.create(tenant.id, tenant.user_body("csrf"), synced=False, extra={})


def _query(tenant: CloudTenant, state: str) -> dict[str, str]:
    verifier = "v" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return {
        "client_id": public_client(tenant), "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid", "state": state, "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }  # fmt: skip


def _open_page(http: httpx.Client, tenant: CloudTenant, query: dict[str, str]) -> dict[str, str]:
    """GET the page as a browser does; the form's hidden fields."""
    page = http.get(f"/{tenant.id}/oauth2/v2.0/authorize", params=query)
    assert page.status_code == 200, page.text
    return dict(_HIDDEN.findall(page.text))


def _post(http: httpx.Client, tenant: CloudTenant, form: dict[str, str]) -> httpx.Response:
    return http.post(f"/{tenant.id}/oauth2/v2.0/authorize", data=form)


def test_page_sets_a_strict_host_cookie_and_a_token_in_its_form(tenant: CloudTenant) -> None:
    with tenant.client() as http:
        page = http.get(f"/{tenant.id}/oauth2/v2.0/authorize", params=_query(tenant, "s1"))
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert csrf.FIELD in dict(_HIDDEN.findall(page.text))


def test_the_page_posted_back_signs_in(tenant: CloudTenant, cloud_user: dict[str, Any]) -> None:
    with tenant.client() as http:
        form = _open_page(http, tenant, _query(tenant, "s2"))
        wrong = _post(http, tenant, {**form, "login": cloud_user["userPrincipalName"],
                                     "passwd": "Wrong!Passw0rd"})  # fmt: skip
        again = dict(_HIDDEN.findall(wrong.text))  # the page again, its token still good
        answer = _post(http, tenant, {**again, "login": cloud_user["userPrincipalName"],
                                      "passwd": CLOUD_PASSWORD})  # fmt: skip
    assert WRONG_CREDENTIALS in wrong.text
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert parse_qs(location.query)["state"] == ["s2"]
    assert "code" in parse_qs(location.query)


def _forged(tenant: CloudTenant, upn: str, how: str) -> httpx.Response:
    """A post another site could make the browser send, in one of its forms."""
    with tenant.client() as attacker, tenant.client() as victim:
        attackers_form = _open_page(attacker, tenant, _query(tenant, "attacker"))
        credentials = {"login": upn, "passwd": CLOUD_PASSWORD}
        if how == "no token":
            form = {k: v for k, v in attackers_form.items() if k != csrf.FIELD}
            return _post(attacker, tenant, {**form, **credentials})
        if how == "no cookie":  # the attacker's valid token, the victim's browser
            return _post(victim, tenant, {**attackers_form, **credentials})
        if how == "other request":  # a token made for another authorization request
            own = _open_page(attacker, tenant, _query(tenant, "other"))
            return _post(attacker, tenant, {**own, csrf.FIELD: attackers_form[csrf.FIELD],
                                            **credentials})  # fmt: skip
        assert how == "other browser"  # the victim holds a key of its own
        _open_page(victim, tenant, _query(tenant, "victim"))
        return _post(victim, tenant, {**attackers_form, **credentials})


@pytest.mark.parametrize("how", ["no token", "no cookie", "other request", "other browser"])
def test_a_post_without_a_valid_token_is_rejected_before_the_password(
    tenant: CloudTenant, cloud_user: dict[str, Any], how: str
) -> None:
    with capture_logs() as logs:
        answer = _forged(tenant, cloud_user["userPrincipalName"], how)

    assert answer.status_code == 403
    assert "location" not in answer.headers  # no code, whatever the password
    assert REJECTED in answer.text.replace("&#x27;", "'")
    assert "<form" not in answer.text
    assert not [entry for entry in logs if entry["event"] == "signin.verdict"]  # not checked
