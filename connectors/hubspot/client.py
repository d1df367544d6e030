"""The HubSpot HTTP client shared by the source and the destination writer.

Every request first takes a token from the account's shared rate budget (reads and writes of one
account in one process draw from the same bucket), reports the X-HubSpot-RateLimit headers back
to it, and turns HubSpot's answers into the push engine's error types so the retry table in
`sync.push.retries` decides what happens next.

A spent daily allowance (a 429 with policy DAILY, or the daily-remaining header at zero) becomes
`DailyLimitReached`, whose message says when the allowance comes back: the Retry-After HubSpot
sent, else the next midnight in the account's time zone (`time_zone`, UTC unless configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from urllib3.exceptions import NewConnectionError

from sync.push.budgets import BudgetExhausted, RateBudget, account_key, shared_budget
from sync.push.destination import RateLimitSettings, WriterStats
from sync.push.retries import ApiError, AuthError, RateLimited, RetryPolicy, TransportError, call_with_retries
from sync.redaction import redact, register_secret

__all__ = ["DEFAULT_BASE_URL", "DailyLimitReached", "HubSpotClient", "account_zone", "open_client"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
_SEARCH_PER_SECOND = 4  # HubSpot allows about 4–5 search requests per second per token
JSON = dict[str, Any]


class DailyLimitReached(BudgetExhausted):
    """HubSpot's daily API allowance for the account is spent; `resets_at` says when it comes back."""

    def __init__(self, resets_at: datetime, zone: str) -> None:
        self.resets_at = resets_at
        super().__init__(f"HubSpot daily API limit reached; resets at {resets_at.isoformat(timespec='minutes')} "
                         f"(midnight in the account's time zone, {zone}). Nothing read or written is lost: run "
                         "again after that, or ask HubSpot for a higher limit")


def account_zone(name: str) -> ZoneInfo:
    """The account's time zone by IANA name; a ValueError that names the setting when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time_zone {name!r} is not an IANA time zone name (for example 'Europe/Berlin' or "
                         "'UTC'); use the one in HubSpot's Settings → Account Defaults") from None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubSpotClient:
    """Authenticated JSON calls to one HubSpot account, paced by its shared budget, retried by the table."""

    def __init__(self, base_url: str, token: Callable[[], str], *, budget: RateBudget,
                 search_budget: RateBudget | None = None, timeout: float = 30.0,
                 policy: RetryPolicy | None = None, stats: WriterStats | None = None,
                 time_zone: str = "UTC") -> None:
        self.base_url = base_url.rstrip("/")
        self.time_zone = time_zone
        self._zone = account_zone(time_zone)
        self._token_source = token
        self._token = token()
        register_secret(self._token)
        self.budget = budget
        self.search_budget = search_budget
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.stats = stats or WriterStats()
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def _refresh(self) -> None:
        """401 → take the token again from its source (a rotated env var, an OAuth refresh) once."""
        self._token = self._token_source()
        register_secret(self._token)

    def _throttled(self, error: RateLimited) -> float:
        budget = self.search_budget if error.body.get("policyName") == "SECONDLY" and self.search_budget \
            else self.budget
        budget.throttled(error.retry_after)
        return 0.0  # acquire() now waits out the pause, together with everyone sharing the account

    def _daily_limit(self, retry_after: float | None) -> DailyLimitReached:
        now = datetime.now(UTC)
        if retry_after is not None:
            return DailyLimitReached(now + timedelta(seconds=retry_after), self.time_zone)
        local = now.astimezone(self._zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=self._zone)
        return DailyLimitReached(midnight, self.time_zone)

    def _send(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None, search: bool) -> Any:
        try:
            self.budget.acquire()
        except BudgetExhausted:  # a response said the day's allowance is at zero: do not spend a 429 on it
            raise self._daily_limit(None) from None
        if search and self.search_budget is not None:
            self.search_budget.acquire()
        url = f"{self.base_url}{path}"
        try:
            reply = self.session.request(method, url, json=body, params=params, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self._token}",
                                                  "Accept": "application/json"})
        except requests.ConnectTimeout as exc:
            raise TransportError("connect", f"{method} {path}: {exc}", sent=False) from None
        except requests.Timeout as exc:
            raise TransportError("timeout", f"{method} {path}: no answer within {self.timeout}s ({exc})",
                                 sent=True) from None
        except requests.ConnectionError as exc:
            refused = _refused(exc)
            raise TransportError("connect" if refused else "reset", f"{method} {path}: {exc}",
                                 sent=not refused) from None
        finally:
            self.stats.requests += 1
        self.stats.statuses[reply.status_code] = self.stats.statuses.get(reply.status_code, 0) + 1
        headers = reply.headers
        interval = _int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        self.budget.observe(max_requests=_int(headers, "X-HubSpot-RateLimit-Max"),
                            interval_seconds=interval / 1000 if interval else None,
                            remaining=_int(headers, "X-HubSpot-RateLimit-Remaining"),
                            daily_remaining=_int(headers, "X-HubSpot-RateLimit-Daily-Remaining"))
        if reply.status_code < 400:
            return reply.json() if reply.content else None
        try:
            payload = reply.json()
        except ValueError:
            payload = {"message": reply.text[:300] or reply.reason}
        payload = payload if isinstance(payload, dict) else {"message": str(payload)[:300]}
        message = str(payload.get("message") or reply.reason)
        category = payload.get("category") or payload.get("errorType")
        if reply.status_code == 429:
            self.stats.rate_limited += 1
            text = headers.get("Retry-After")
            retry_after = float(text) if text and text.replace(".", "", 1).isdigit() else None
            if payload.get("policyName") == "DAILY":
                self.budget.observe(daily_remaining=0)  # every sharer of the account stops without a 429
                raise self._daily_limit(retry_after)
            raise RateLimited(429, message, category=category, body=payload, retry_after=retry_after)
        if reply.status_code == 401:
            raise AuthError(401, f"{message} (check the HubSpot token: a private app token with the CRM "
                            "scopes this connector needs)", category=category, body=payload)
        raise ApiError(reply.status_code, message, category=category, body=payload)

    def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None,
                idempotent: bool = True) -> Any:
        """One API call with the retry table applied; returns the parsed JSON body (None for 204)."""
        search = path.endswith("/search")
        what = f"HubSpot {method} {path}"

        def attempt() -> Any:
            try:
                return self._send(method, path, body, params, search)
            except RateLimited:
                raise
            except (ApiError, TransportError):
                self.stats.retried += 1
                raise

        return call_with_retries(attempt, idempotent=idempotent, what=what, refresh=self._refresh,
                                 throttled=self._throttled, policy=self.policy)


def _refused(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (so the request was never sent)."""
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


def open_client(*, base_url: str | None, token: str | Callable[[], str] | None, rate_limit: RateLimitSettings,
                account: str | None = None, timeout: float = 30.0, policy: RetryPolicy | None = None,
                stats: WriterStats | None = None, search_per_second: int | None = _SEARCH_PER_SECOND,
                time_zone: str = "UTC") -> HubSpotClient:
    """A client on the account's shared budget; a clear error when the token is missing."""
    source: Callable[[], str] = token if callable(token) else (lambda: token or "")
    value = source()
    if not value:
        raise ValueError("HubSpot needs a token: set `token: \"${HUBSPOT_TOKEN}\"` and export HUBSPOT_TOKEN "
                         "(a private app token with crm.objects.contacts.read/write)")
    url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    key = account_key("hubspot", url, value, account)
    budget = shared_budget(key, rate_limit.max_requests, rate_limit.interval_seconds, daily=rate_limit.daily)
    search = shared_budget(f"{key}:search", search_per_second, 1.0) if search_per_second else None
    log.debug("HubSpot client for %s", redact(url))
    return HubSpotClient(url, source, budget=budget, search_budget=search, timeout=timeout, policy=policy,
                         stats=stats, time_zone=time_zone)
