"""Smart lockout and no user enumeration, over HTTPS against the served directory.

Sources are told apart by client address: a client bound to 127.0.0.2 is another machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.signin import public_client

from hybridsync.agent.runner import AgentRunner
from hybridsync.cloud.signin import verify
from hybridsync.cloud.signin.lockout import THRESHOLD, Lockout

CLOUD_PASSWORD = "Str0ng!Passw0rd"  # CloudTenant.user_body's
LOCKED = "AADSTS50053"
WRONG = "AADSTS50126"
PHS_PASSWORD = "Pa$$w0rd"  # the DSInternals vector below
PHS_WIRE = (
    "v1;PPH1_MD4,181a3024085fcee2f70e,1000,"
    "b39525c3bc72a1136fcf7c8a338e0c14313d0450d1a4c98ef0a6ddada3bc5b0a;"
)

SignIn = Callable[[str, str], dict[str, Any]]


def _signer(tenant: CloudTenant, source: str = "127.0.0.1") -> Iterator[SignIn]:
    # A connection whose TLS handshake fails is opened again (nothing was sent on it yet):
    # dozens of handshakes at once against the in-process server, on a machine running
    # another test worker, once ended in an EOF before any request was made.
    transport = httpx.HTTPTransport(
        verify=tenant.server.ssl_context(), local_address=source, retries=2
    )
    client_id = public_client(tenant)
    with httpx.Client(base_url=tenant.server.base_url, transport=transport) as http:

        def sign_in(upn: str, password: str) -> dict[str, Any]:
            answer = http.post(
                f"/{tenant.id}/oauth2/v2.0/token",
                data={"client_id": client_id, "grant_type": "password", "username": upn,
                      "password": password, "scope": "User.Read"},
            )  # fmt: skip
            result: dict[str, Any] = answer.json()
            return result

        yield sign_in


@pytest.fixture
def home(tenant: CloudTenant) -> Iterator[SignIn]:
    yield from _signer(tenant, "127.0.0.1")


@pytest.fixture
def elsewhere(tenant: CloudTenant) -> Iterator[SignIn]:
    yield from _signer(tenant, "127.0.0.2")


@pytest.fixture
def cloud_upn(tenant: CloudTenant) -> str:
    user = tenant.server.service.users.create(
        tenant.id, tenant.user_body("lockme"), synced=False, extra={}
    )
    return str(user["userPrincipalName"])


def _code(result: dict[str, Any]) -> str:
    return "access_token" if "access_token" in result else str(result["error_description"])[:11]


# -- the counter itself (a fake clock: minutes pass at once) --------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(lockout: Lockout, password: str, source: str = "10.0.0.9") -> bool:
    attempt = lockout.begin("t", "u", source, password)
    lockout.finish(attempt, succeeded=False, failed=True)
    return attempt.admitted


def test_ten_failures_lock_for_a_minute_then_each_new_failure_locks_twice_as_long() -> None:
    clock = _Clock()
    lockout = Lockout(clock=clock)
    assert all(_fail(lockout, f"guess {n}") for n in range(THRESHOLD))
    assert lockout.is_locked("t", "u", "10.0.0.9")
    clock.now += 59.9
    assert not _fail(lockout, "while locked")
    clock.now += 0.2
    assert not lockout.is_locked("t", "u", "10.0.0.9")
    assert _fail(lockout, "first guess after the lockout")  # one failure locks again ...
    clock.now += 119.9
    assert lockout.is_locked("t", "u", "10.0.0.9")  # ... for two minutes
    clock.now += 0.2
    assert not lockout.is_locked("t", "u", "10.0.0.9")


def test_a_repeated_wrong_password_counts_once_and_a_success_resets() -> None:
    lockout = Lockout(clock=_Clock())
    for _ in range(THRESHOLD * 3):
        _fail(lockout, "the same typo")
    assert not lockout.is_locked("t", "u", "10.0.0.9")
    for n in range(THRESHOLD - 2):
        _fail(lockout, f"guess {n}")
    ok = lockout.begin("t", "u", "10.0.0.9", "right")
    lockout.finish(ok, succeeded=True, failed=False)
    for n in range(THRESHOLD - 1):
        _fail(lockout, f"again {n}")
    assert not lockout.is_locked("t", "u", "10.0.0.9")


def test_in_flight_guesses_take_their_place_before_the_check() -> None:
    lockout = Lockout(clock=_Clock())
    admitted = [lockout.begin("t", "u", "10.0.0.9", f"g{n}") for n in range(THRESHOLD * 3)]
    assert sum(attempt.admitted for attempt in admitted) == THRESHOLD


# -- over HTTPS ---------------------------------------------------------------------------


def test_the_same_wrong_password_repeated_never_locks(home: SignIn, cloud_upn: str) -> None:
    for _ in range(THRESHOLD * 2):
        assert _code(home(cloud_upn, "Autumn2025!")) == WRONG
    assert _code(home(cloud_upn, CLOUD_PASSWORD)) == "access_token"


def test_guesses_from_an_unfamiliar_source_do_not_lock_out_a_familiar_one(
    home: SignIn, elsewhere: SignIn, cloud_upn: str
) -> None:
    assert _code(home(cloud_upn, CLOUD_PASSWORD)) == "access_token"  # home becomes familiar

    for n in range(THRESHOLD):
        assert _code(elsewhere(cloud_upn, f"Guess!{n}")) == WRONG

    assert _code(elsewhere(cloud_upn, CLOUD_PASSWORD)) == LOCKED  # even the right password
    assert _code(home(cloud_upn, CLOUD_PASSWORD)) == "access_token"


def test_failures_from_the_familiar_source_lock_it_too(home: SignIn, cloud_upn: str) -> None:
    assert _code(home(cloud_upn, CLOUD_PASSWORD)) == "access_token"
    for n in range(THRESHOLD):
        assert _code(home(cloud_upn, f"Guess!{n}")) == WRONG
    assert _code(home(cloud_upn, CLOUD_PASSWORD)) == LOCKED


def test_parallel_guesses_never_check_more_passwords_than_the_threshold(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, home: SignIn
) -> None:
    # Pass-through users: the agent's checker records every password it was asked to check.
    upn = str(synced_partner(tenant, fake_ad)["userPrincipalName"])
    guesses = [f"Parallel!{n}" for n in range(THRESHOLD * 4)]

    with ThreadPoolExecutor(len(guesses)) as pool:
        answers = list(pool.map(lambda guess: _code(home(upn, guess)), guesses))

    assert len(fake_ad.checked) == THRESHOLD
    assert answers.count(WRONG) == THRESHOLD
    assert answers.count(LOCKED) == len(guesses) - THRESHOLD
    assert _code(home(upn, PARTNER_PASSWORD)) == LOCKED


def test_an_unknown_name_locks_like_a_real_one(home: SignIn, tenant: CloudTenant) -> None:
    nobody = f"nobody@{tenant.domain}"
    answers = [home(nobody, f"Guess!{n}") for n in range(THRESHOLD + 1)]
    assert [_code(a) for a in answers] == [WRONG] * THRESHOLD + [LOCKED]
    assert answers[-1]["error_codes"] == [50053]


# -- no user enumeration ------------------------------------------------------------------


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the argon2 verifications the sign-in does (the expensive, timed part)."""
    calls: list[str] = []
    real = verify.password_matches

    def counted(stored: str, password: str) -> bool:
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(verify, "password_matches", counted)
    return calls


def _phs_upn(tenant: CloudTenant) -> str:
    body = tenant.user_body("phsuser", onPremisesImmutableId="phsuser-immutable")
    del body["passwordProfile"]
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
        created = sync.post("/v1.0/users", json=body).json()
        uploaded = sync.post(
            "/v1.0/hybridsync/passwordHashes",
            json={"value": [{"userId": created["id"], "passwordHash": PHS_WIRE}]},
        )
        assert uploaded.status_code == 200, uploaded.text
    return str(created["userPrincipalName"])


def test_every_kind_of_name_gets_the_same_answer_the_same_work_and_time(
    tenant: CloudTenant,
    fake_ad: FakeAD,
    agent: AgentRunner,
    home: SignIn,
    cloud_upn: str,
    argon2_checks: list[str],
) -> None:
    names = {
        "unknown": f"nobody@{tenant.domain}",
        "cloud": cloud_upn,
        "phs": _phs_upn(tenant),
        "pta": str(synced_partner(tenant, fake_ad)["userPrincipalName"]),
    }
    assert _code(home(names["phs"], PHS_PASSWORD)) == "access_token"  # the PHS path is real
    timings: dict[str, list[float]] = {kind: [] for kind in names}
    answers: dict[str, set[tuple[str, str]]] = {kind: set() for kind in names}
    rounds = THRESHOLD - 2  # fewer than a lockout
    for attempt in range(rounds):
        for kind, upn in names.items():
            before = len(argon2_checks)
            started = time.perf_counter()
            result = home(upn, f"Wrong!{attempt}")
            timings[kind].append(time.perf_counter() - started)
            assert len(argon2_checks) - before == 1, kind  # the same work on every path
            answers[kind].add((result["error"], result["error_description"].split("\r\n")[0]))

    assert len(set().union(*answers.values())) == 1, answers
    medians = {kind: statistics.median(times) for kind, times in timings.items()}
    # Within noise: argon2 dominates every path; the agent's round trip is a small addition.
    assert max(medians.values()) < 2 * min(medians.values()), medians
    assert len(fake_ad.checked) == rounds
