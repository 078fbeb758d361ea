"""The console's ID token checks, access levels, sessions and redirects: what an attacker
sends (a forged, replayed, foreign or expired token, an open redirect) is refused.

(Fast tests with a key of the test's own; the sign-in itself is tested in Chromium against
the served cloud directory, tests/console/.)"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from hybridsync.cli.admin.settings import AdminConfigError, console_settings
from hybridsync.cli.console import sessions as sessions_module
from hybridsync.cli.console.app import _local_path
from hybridsync.cli.console.oidc import Flow, OidcClient, SignInError
from hybridsync.cli.console.sessions import Sessions, access_level
from hybridsync.config.console import ConsoleConfig

ISSUER = "https://login.example/tenant/v2.0"
CLIENT = "console-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _config(**changes: Any) -> ConsoleConfig:
    values: dict[str, Any] = {
        "issuer": ISSUER, "client_id": CLIENT,
        "redirect_uri": "https://sync.example/console/signed-in",
        "reader_roles": ["reader-role"], "operator_groups": ["operators-group"],
    } | changes  # fmt: skip
    return ConsoleConfig(**values)


class _KnownKeys(OidcClient):
    """The client, with the issuer's JWKS given instead of fetched."""

    def _jwks(self, refresh: bool) -> jwt.PyJWKSet:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        return jwt.PyJWKSet.from_dict({"keys": [public | {"kid": "k1", "use": "sig"}]})


def _token(key: Any = KEY, algorithm: str = "RS256", kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "user-1", "iat": now, "exp": now + 600,
            "nonce": "n-1"} | claims  # fmt: skip
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


def test_a_valid_token_is_accepted() -> None:
    claims = _KnownKeys(_config(), None).validate(_token(wids=["reader-role"]))
    assert claims["sub"] == "user-1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _token(key=OTHER_KEY), "Signature verification failed"),
        (lambda: _token(aud="another-app"), "Audience"),
        (lambda: _token(iss="https://evil.example/v2.0"), "issuer"),
        (lambda: _token(exp=int(time.time()) - 3600), "expired"),
        (lambda: _token(kid="unknown"), "no signing key"),
        (lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT, "sub": "x"}, None, algorithm="none"),
         "algorithm 'none'"),
        (lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT, "sub": "x"}, "s" * 32,
                            algorithm="HS256", headers={"kid": "k1"}), "algorithm 'HS256'"),
        (lambda: "not.a.token", "not a JWT"),
    ],
    ids=["other-key", "audience", "issuer", "expired", "kid", "alg-none", "hmac", "garbage"],
)  # fmt: skip
def test_a_forged_or_foreign_token_is_refused(token: Any, reason: str) -> None:
    with pytest.raises(SignInError, match=reason):
        _KnownKeys(_config(), None).validate(token())


def test_the_nonce_must_be_this_sign_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _KnownKeys(_config(), None)
    replayed = _token(nonce="an-older-sign-in")
    monkeypatch.setattr(client, "_document", lambda: {"token_endpoint": "https://t.example"})

    class Answer:
        status_code = 200

        @staticmethod
        def json() -> dict[str, str]:
            return {"id_token": replayed}

    monkeypatch.setattr(client, "_http", lambda *args, **kwargs: Answer())
    flow = Flow("state", "n-1", "verifier", "/console/", time.monotonic())
    with pytest.raises(SignInError, match="nonce"):
        client.finish(flow, "code")


def test_access_comes_from_roles_or_groups_and_operator_wins() -> None:
    config = _config(operator_roles=["op-role"])
    levels = {
        "reader by role": {"wids": ["reader-role"]},
        "operator by group": {"groups": ["operators-group"], "wids": ["reader-role"]},
        "operator by role": {"wids": ["op-role"]},
        "nothing": {"wids": ["some-other-role"], "groups": ["a-group"]},
        "malformed": {"wids": "reader-role", "groups": None},
    }
    found = {
        name: access_level(claims, reader_roles=config.reader_roles,
                           operator_roles=config.operator_roles,
                           reader_groups=config.reader_groups,
                           operator_groups=config.operator_groups)
        for name, claims in levels.items()
    }  # fmt: skip
    assert found == {
        "reader by role": "reader", "operator by group": "operator",
        "operator by role": "operator", "nothing": None, "malformed": None,
    }  # fmt: skip


def test_a_sign_in_state_is_used_once() -> None:
    sessions = Sessions(60)
    flow = Flow("state-1", "n", "v", "/console/", time.monotonic(), "browser-1")
    assert sessions.begin(flow)
    assert sessions.take_flow("state-1", "browser-1") == flow
    assert sessions.take_flow("state-1", "browser-1") is None
    assert sessions.take_flow("made-up", "browser-1") is None


def test_one_address_cannot_take_the_whole_table_of_sign_ins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sessions_module, "_MAX_FLOWS_PER_CLIENT", 2)
    sessions = Sessions(60)
    started = [Flow(f"s-{n}", "n", "v", "/console/", time.monotonic(), "b") for n in range(4)]
    assert [sessions.begin(flow, "198.51.100.7") for flow in started[:3]] == [True, True, False]
    assert sessions.begin(started[3], "203.0.113.9")  # another address still may


def test_a_session_has_its_own_csrf_token_and_ends() -> None:
    sessions = Sessions(60)
    first, second = sessions.open("a", "A", "reader"), sessions.open("b", "B", "operator")
    one, two = sessions.get(first), sessions.get(second)
    assert one is not None
    assert two is not None
    assert one.csrf != two.csrf
    assert one.csrf_matches(one.csrf)
    assert not one.csrf_matches(two.csrf)
    sessions.close(first)
    assert sessions.get(first) is None
    assert sessions.get("guessed") is None
    assert Sessions(-1).get(Sessions(-1).open("c", "C", "reader")) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/runs?page=2", "/console/runs?page=2"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/console/\\evil", "/console/"),
        ("/metrics", "/console/"),
        ("", "/console/"),
    ],
)
def test_after_sign_in_only_a_console_page_is_a_destination(target: str, expected: str) -> None:
    assert _local_path(target) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reader_roles": [], "operator_groups": []}, "nobody may use the console"),
        ({"redirect_uri": "https://sync.example/elsewhere"}, "/console/signed-in"),
        ({"color": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_a_console_configuration_that_cannot_work_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _config(**changes)


def test_the_console_address_is_the_admin_one_or_its_own(tmp_path: Path) -> None:
    assert console_settings("admin") is None
    own = console_settings("127.0.0.1:9443")
    assert own is not None
    assert (own.host, own.port, own.tls) == ("127.0.0.1", 9443, False)
    with pytest.raises(AdminConfigError, match=r"--console 0\.0\.0\.0:9443: an address other"):
        console_settings("0.0.0.0:9443")
    with pytest.raises(AdminConfigError, match="--console 'nowhere': not HOST:PORT"):
        console_settings("nowhere")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    beyond = console_settings("0.0.0.0:9443", cert, key)
    assert beyond is not None
    assert beyond.url == "https://0.0.0.0:9443"
