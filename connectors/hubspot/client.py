"""The HubSpot HTTP client shared by the source and the destination writer.

Every request first takes a token from the account's shared rate budget (reads and writes of one
account in one process draw from the same bucket), reports the X-HubSpot-RateLimit headers back
to it, and turns HubSpot's answers into the push engine's error types so the retry table in
`sync.push.retries` decides what happens next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from sync.push.budgets import RateBudget, account_key, shared_budget
from sync.push.destination import RateLimitSettings, WriterStats
from sync.push.retries import ApiError, AuthError, RateLimited, RetryPolicy, TransportError, call_with_retries
from sync.redaction import redact, register_secret

__all__ = ["DEFAULT_BASE_URL", "HubSpotClient", "open_client"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
_SEARCH_PER_SECOND = 4  # HubSpot allows about 4–5 search requests per second per token
JSON = dict[str, Any]


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
                 policy: RetryPolicy | None = None, stats: WriterStats | None = None) -> None:
        self.base_url = base_url.rstrip("/")
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

    def _send(self, method: str, path: str, body: Any, params: Mapping[str, Any] | None, search: bool) -> Any:
        self.budget.acquire()
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
            retry_after = headers.get("Retry-After")
            raise RateLimited(429, message, category=category, body=payload, daily=payload.get("policyName") ==
                              "DAILY", retry_after=float(retry_after) if retry_after and
                              retry_after.replace(".", "", 1).isdigit() else None)
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
                stats: WriterStats | None = None, search_per_second: int | None = _SEARCH_PER_SECOND) -> HubSpotClient:
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
                         stats=stats)
