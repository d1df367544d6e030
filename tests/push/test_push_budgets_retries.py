"""Unit tests: the token bucket against a rolling window, and the retry table (no network)."""

from __future__ import annotations

import threading

import pytest

from sync.push.budgets import BudgetExhausted, RateBudget, account_key, forget_budgets, shared_budget
from sync.push.retries import (
    Action,
    AmbiguousWrite,
    ApiError,
    AuthError,
    RateLimited,
    RetryPolicy,
    TransportError,
    call_with_retries,
    decide,
)

FAST = RetryPolicy(attempts=5, backoff_base=0.001, backoff_cap=0.002)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def sends(budget: RateBudget, clock: FakeClock, seconds: float) -> list[float]:
    times = []
    while clock.now < seconds:
        budget.acquire()
        times.append(clock.now)
    return times


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_bucket_never_exceeds_a_rolling_window_and_uses_97_percent_of_it():
    clock = FakeClock()
    budget = RateBudget(100, 10.0, clock=clock, sleep=clock.sleep)
    times = sends(budget, clock, 120.0)
    assert max_in_window(times, 10.0) <= 100
    assert len(times) / 120.0 >= 0.96 * 10  # ≥ 96 % of the theoretical 10 requests per second


def test_headers_reconfigure_the_bucket_and_a_429_slows_and_pauses_it():
    clock = FakeClock()
    budget = RateBudget(100, 10.0, clock=clock, sleep=clock.sleep)
    budget.observe(max_requests=190, interval_seconds=10.0, remaining=150, daily_remaining=1000)
    assert budget.max_requests == 190 and budget.daily_remaining == 1000
    before = budget.rate
    assert budget.throttled(retry_after=2.0) == 2.0
    assert budget.rate == pytest.approx(before / 2)
    start = clock.now
    budget.acquire()
    assert clock.now - start >= 2.0  # everyone sharing the account waits out the pause
    for _ in range(40):
        budget.observe()
    assert budget.rate == pytest.approx(before)  # climbs back after successes


def test_daily_allowance_stops_instead_of_burning_429s():
    clock = FakeClock()
    budget = RateBudget(100, 10.0, daily=2, clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.acquire()
    with pytest.raises(BudgetExhausted, match="daily API allowance"):
        budget.acquire()


def test_a_spent_daily_allowance_is_probed_again_and_comes_back():
    # a long-lived process (crmsync serve) must not refuse forever once the day's allowance was spent
    clock = FakeClock()
    budget = RateBudget(100, 10.0, daily=1, clock=clock, sleep=clock.sleep, daily_probe_seconds=900)
    budget.acquire()
    with pytest.raises(BudgetExhausted):
        budget.acquire()
    clock.now += 899
    with pytest.raises(BudgetExhausted):
        budget.acquire()
    clock.now += 2
    budget.acquire()  # the probe
    budget.observe(daily_remaining=0)  # the CRM says: still spent
    with pytest.raises(BudgetExhausted):
        budget.acquire()  # no second request until the next probe
    clock.now += 900
    budget.acquire()
    budget.observe(daily_remaining=250_000)  # a new day
    for _ in range(3):
        budget.acquire()
    assert budget.daily_remaining == 250_000 - 3


def test_shared_budget_is_one_per_account():
    forget_budgets()
    key = account_key("hubspot", "https://api.hubapi.com/", "secret-token")
    assert "secret-token" not in key
    assert shared_budget(key, 100, 10) is shared_budget(account_key("hubspot", "https://api.hubapi.com",
                                                                    "secret-token"), 5, 1)
    assert shared_budget(account_key("hubspot", "x", "t", account="acme"), 1, 1) is not shared_budget(key, 1, 1)
    forget_budgets()


@pytest.mark.parametrize(("error", "action"), [
    (RateLimited(429, "slow down"), Action.WAIT),
    (RateLimited(429, "You have reached your daily limit.", daily=True), Action.STOP),
    (ApiError(500, "oops"), Action.BACK_OFF),
    (ApiError(503, "down"), Action.BACK_OFF),
    (TransportError("timeout", "read timed out", sent=True), Action.BACK_OFF),
    (TransportError("reset", "connection reset", sent=True), Action.BACK_OFF),
    (AuthError(401, "expired"), Action.REFRESH),
    (ApiError(400, "Property values were not valid"), Action.DEAD_LETTER),
    (ApiError(409, "Contact already exists"), Action.DEAD_LETTER),
])
def test_the_retry_table(error, action):
    assert decide(error) is action


def flaky(*errors: BaseException):
    queue = list(errors)
    calls = []

    def send() -> str:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return "ok"

    return send, calls


def test_transient_errors_are_retried_and_terminal_ones_are_not():
    send, calls = flaky(ApiError(500, "x"), TransportError("timeout", "t", sent=True), RateLimited(429, "r"))
    assert call_with_retries(send, idempotent=True, what="t", policy=FAST, throttled=lambda e: 0.0) == "ok"
    assert len(calls) == 4
    send, calls = flaky(ApiError(400, "bad e-mail"))
    with pytest.raises(ApiError, match="bad e-mail"):
        call_with_retries(send, idempotent=True, what="t", policy=FAST)
    assert len(calls) == 1


def test_401_refreshes_once_then_gives_up():
    refreshed = []
    send, calls = flaky(AuthError(401, "expired"))
    assert call_with_retries(send, idempotent=True, what="t", policy=FAST, refresh=lambda: refreshed.append(1)) == "ok"
    assert refreshed == [1]
    send, calls = flaky(AuthError(401, "expired"), AuthError(401, "still"))
    with pytest.raises(AuthError, match="still"):
        call_with_retries(send, idempotent=True, what="t", policy=FAST, refresh=lambda: None)


def test_a_create_that_may_have_happened_is_never_repeated_blindly():
    for error in (ApiError(500, "x"), TransportError("timeout", "t", sent=True), TransportError("reset", "r", sent=True)):
        send, calls = flaky(error)
        with pytest.raises(AmbiguousWrite):
            call_with_retries(send, idempotent=False, what="create", policy=FAST)
        assert len(calls) == 1
    send, calls = flaky(TransportError("connect", "refused", sent=False), RateLimited(429, "r"))
    assert call_with_retries(send, idempotent=False, what="create", policy=FAST, throttled=lambda e: 0.0) == "ok"


def test_messages_are_redacted():
    from sync.redaction import register_secret

    register_secret("pat-na1-supersecret")
    error = ApiError(401, "token pat-na1-supersecret is invalid")
    assert "supersecret" not in str(error) and "supersecret" not in error.message
