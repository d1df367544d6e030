"""Transient or terminal: the retry decision as a table, and the tenacity loop that follows it.

| what came back                      | action      | how                                              |
|-------------------------------------|-------------|--------------------------------------------------|
| 429 (rate limit; not the daily one) | WAIT        | Retry-After, else until a slot in the window frees |
| 429 daily limit                     | STOP        | the run stops; records stay pending for tomorrow |
| 5xx, timeout, connection reset      | BACK_OFF    | exponential, jittered (AMBIGUOUS for a create)   |
| 401                                 | REFRESH     | once per call; a second 401 stops the run        |
| any other 4xx                       | DEAD_LETTER | terminal for the record: the CRM's message kept  |

A non-idempotent write (a plain create, a merge) that fails *after it may have reached the CRM*
(5xx, read timeout, reset) is never repeated blindly: it raises AmbiguousWrite, and the caller
looks up before it tries again. Connectors raise these exception types; nothing here parses
message text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from sync.redaction import redact

__all__ = [
    "Action",
    "AmbiguousWrite",
    "ApiError",
    "AuthError",
    "RateLimited",
    "RetryPolicy",
    "TransportError",
    "call_with_retries",
    "decide",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Action(StrEnum):
    WAIT = "wait"
    BACK_OFF = "back off"
    REFRESH = "refresh credentials once"
    DEAD_LETTER = "dead letter"
    STOP = "stop the run"


class ApiError(RuntimeError):
    """The CRM answered with an error status; `message` is the CRM's own words (redacted)."""

    def __init__(self, status: int, message: str, *, category: str | None = None,
                 body: dict[str, Any] | None = None) -> None:
        self.status = status
        self.message = redact(message)
        self.category = category
        self.body = body or {}
        super().__init__(f"HTTP {status}{f' {category}' if category else ''}: {self.message}")


class RateLimited(ApiError):
    """429: `retry_after` is what the CRM asked for (None when it did not say); `daily` for the day's cap."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None, daily: bool = False,
                 category: str | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(status, message, category=category, body=body)
        self.retry_after = retry_after
        self.daily = daily


class AuthError(ApiError):
    """401: the token is missing, wrong or expired."""


class TransportError(RuntimeError):
    """No usable HTTP answer: `sent` is False only when the request surely never reached the CRM."""

    def __init__(self, kind: str, detail: str, *, sent: bool) -> None:
        self.kind = kind  # "timeout", "reset", "connect"
        self.sent = sent
        super().__init__(f"{kind}: {redact(detail)}")


class AmbiguousWrite(RuntimeError):
    """A non-idempotent write may or may not have happened; look up before trying it again."""


def decide(error: BaseException) -> Action:
    """The table in the module docstring."""
    if isinstance(error, RateLimited):
        return Action.STOP if error.daily else Action.WAIT
    if isinstance(error, AuthError):
        return Action.REFRESH
    if isinstance(error, TransportError):
        return Action.BACK_OFF
    if isinstance(error, ApiError):
        return Action.BACK_OFF if error.status >= 500 else Action.DEAD_LETTER
    return Action.STOP


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient errors are retried before the run gives up (records then stay pending)."""

    attempts: int = 10
    max_seconds: float = 300.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


def _may_have_happened(error: BaseException) -> bool:
    if isinstance(error, TransportError):
        return error.sent
    return isinstance(error, ApiError) and not isinstance(error, RateLimited | AuthError) and error.status >= 500


def call_with_retries(send: Callable[[], T], *, idempotent: bool, what: str,
                      refresh: Callable[[], None] | None = None,
                      throttled: Callable[[RateLimited], float] | None = None,
                      policy: RetryPolicy | None = None) -> T:
    """Run `send` until it succeeds or the table says stop; raises the last error or AmbiguousWrite.

    `throttled` is told about each 429 and returns how long to wait (the shared budget pauses
    everyone sharing the account, so this caller waits just as long as they do).
    """
    policy = policy or RetryPolicy()
    refreshed = False
    backoff = wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_cap)

    def retryable(error: BaseException) -> bool:
        nonlocal refreshed
        action = decide(error)
        if action is Action.REFRESH and refresh is not None and not refreshed:
            refreshed = True
            refresh()
            return True
        if action is Action.BACK_OFF and not idempotent and _may_have_happened(error):
            return False
        return action in (Action.WAIT, Action.BACK_OFF)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited):
            return throttled(error) if throttled else (error.retry_after or 1.0)
        if isinstance(error, AuthError):
            return 0.0
        return float(backoff(state))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info("%s: attempt %d failed (%s); %s in %.2fs", what, state.attempt_number, error,
                 decide(error).value if error else "retry", state.upcoming_sleep)

    retrying = Retrying(stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.max_seconds),
                        wait=wait, retry=retry_if_exception(retryable), before_sleep=before_sleep, reraise=True)
    try:
        return retrying(send)
    except (ApiError, TransportError) as error:
        if not idempotent and decide(error) is Action.BACK_OFF and _may_have_happened(error):
            raise AmbiguousWrite(f"{what}: {error}; it may or may not have reached the CRM") from error
        raise
