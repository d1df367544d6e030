"""Rate-limit budgets: one adaptive token bucket per CRM account, shared by every reader and writer.

A CRM that counts requests in a rolling window (HubSpot: 100 per 10 s) answers 429 as soon as any
window holds one request too many. A token bucket with rate r and capacity b sends at most
b + r·W requests in any window W, so r = s·max/W and b = (1 − s)·max keep every window at or under
the limit while still using the share s of it. The bucket adapts to what the CRM says:

- the limit the CRM reports (HubSpot's `…-Max` / `…-Interval-Milliseconds`) sets the ceiling;
- a reported remaining of 0, or a 429, pauses everyone sharing the account until a slot is free again;
- after a 429 the rate halves and then climbs back by a small step per successful response;
- a daily allowance that reaches zero stops the run instead of burning through 429s; in a long-lived
  process (`crmsync serve`) one probe request is let through every `daily_probe_seconds` afterwards,
  so the budget learns from the CRM's own header when the allowance has come back.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["BudgetExhausted", "RateBudget", "account_key", "forget_budgets", "shared_budget"]

_SAFETY = 0.97
_MIN_SHARE = 0.1  # never slow below a tenth of the ceiling
_RECOVERY = 0.02  # share of the ceiling regained per successful response after a 429
DAILY_PROBE_SECONDS = 900.0  # a spent daily allowance is re-checked with one request this often


class BudgetExhausted(RuntimeError):
    """The account's daily allowance is spent; the message says when it comes back."""


class RateBudget:
    """A thread-safe adaptive token bucket for one account (see the module docstring)."""

    def __init__(self, max_requests: int, interval_seconds: float, *, daily: int | None = None,
                 safety: float = _SAFETY, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 daily_probe_seconds: float = DAILY_PROBE_SECONDS) -> None:
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self.safety = safety
        self._configure(max_requests, interval_seconds)
        self._share = 1.0
        self._tokens = self.capacity
        self._stamp = clock()
        self._paused_until = 0.0
        self._sent: deque[float] = deque()
        self.daily_remaining = daily
        self.daily_probe_seconds = daily_probe_seconds
        self._spent_at: float | None = None  # when the daily allowance was last seen spent
        self.waited_seconds = 0.0
        self.acquired = 0

    def _configure(self, max_requests: int, interval_seconds: float) -> None:
        self.max_requests = max(1, max_requests)
        self.interval = max(0.001, interval_seconds)
        self.capacity = max(1.0, math.floor((1 - self.safety) * self.max_requests))
        self.ceiling = (self.max_requests - self.capacity) / self.interval

    @property
    def rate(self) -> float:
        """Requests per second the bucket currently allows."""
        return self.ceiling * self._share

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> None:
        """Block until one request may be sent; raises BudgetExhausted when the day's allowance is gone."""
        while True:
            with self._lock:
                now = self._clock()
                if self.daily_remaining is not None and self.daily_remaining <= 0:
                    self._admit_daily_probe_locked(now)

                self._refill(now)
                wait = self._paused_until - now
                if wait <= 0 and self._tokens >= 1:
                    self._tokens -= 1
                    self._sent.append(now)
                    while self._sent and self._sent[0] <= now - self.interval:
                        self._sent.popleft()
                    if self.daily_remaining is not None:
                        self.daily_remaining -= 1
                    self.acquired += 1
                    return
                wait = max(wait, (1 - self._tokens) / self.rate if self.rate else 0.05)
            wait = min(max(wait, 0.001), 5.0)
            self.waited_seconds += wait
            self._sleep(wait)

    def _admit_daily_probe_locked(self, now: float) -> None:
        """With the allowance spent: raise BudgetExhausted, or let one request through to re-read the
        CRM's remaining count once `daily_probe_seconds` have passed since it was seen spent."""
        if self._spent_at is None:
            self._spent_at = now
        elif now - self._spent_at >= self.daily_probe_seconds:
            self._spent_at = now
            self.daily_remaining = 1  # the probe; the response's header (or a daily 429) says the rest
            return
        raise BudgetExhausted("the CRM account's daily API allowance is used up; it resets at midnight in "
                              "the account's time zone. Re-run then; nothing is lost.")

    def observe(self, *, max_requests: int | None = None, interval_seconds: float | None = None,
                remaining: int | None = None, daily_remaining: int | None = None) -> None:
        """Adapt to what a response said about the limits (the connector parses its CRM's headers)."""
        with self._lock:
            if max_requests and interval_seconds and (max_requests, interval_seconds) != (
                    self.max_requests, self.interval):
                self._configure(max_requests, interval_seconds)
                self._tokens = min(self._tokens, self.capacity)
            if daily_remaining is not None:
                self.daily_remaining = daily_remaining
                if daily_remaining > 0:
                    self._spent_at = None
            if remaining is not None and remaining <= 0:
                self._pause_locked(self._next_slot_locked())
            self._share = min(1.0, self._share + _RECOVERY)

    def throttled(self, retry_after: float | None) -> float:
        """A 429 came back: slow down, pause every sharer, and return how long the caller should wait."""
        with self._lock:
            self._share = max(_MIN_SHARE, self._share / 2)
            wait = retry_after if retry_after is not None else self._next_slot_locked()
            self._pause_locked(wait)
            self._tokens = 0.0
            return wait

    def _next_slot_locked(self) -> float:
        """How long to hold off when the CRM did not say: until our oldest request leaves the window if we
        filled it, else a short pause (someone else shares the account, or the CRM hiccuped)."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - self.interval:
            self._sent.popleft()
        if self._sent and len(self._sent) >= self.max_requests - self.capacity:
            return max(0.05, self._sent[0] + self.interval - now)
        return min(self.interval / 10, 1.0)

    def _pause_locked(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


_registry: dict[str, RateBudget] = {}
_registry_lock = threading.Lock()


def account_key(connector: str, base_url: str, credential: str | None, account: str | None = None) -> str:
    """The budget key of a CRM account: the configured `account` name, else the URL and a token digest."""
    if account:
        return f"{connector}:{account}"
    digest = hashlib.sha256((credential or "").encode()).hexdigest()[:16]
    return f"{connector}:{base_url.rstrip('/')}:{digest}"


def shared_budget(key: str, max_requests: int, interval_seconds: float, *, daily: int | None = None) -> RateBudget:
    """The process-wide budget for `key`, created on first use (later callers get the same one)."""
    with _registry_lock:
        budget = _registry.get(key)
        if budget is None:
            budget = _registry[key] = RateBudget(max_requests, interval_seconds, daily=daily)
        return budget


def forget_budgets() -> None:
    """Drop every shared budget (tests start each case with a fresh account)."""
    with _registry_lock:
        _registry.clear()
