"""The RetailCRM API v5 client: `X-API-KEY`, form posts with JSON-string parameters, 10 requests/s.

RetailCRM answers an over-limit request with 503 (its SDKs treat 503 and 429 alike as rate
limits), so both are raised as RateLimited and waited out. Errors are
`{success: false, errorMsg, errors: {field: message}}`; the message and the field errors are kept
together as the CRM's words for dead letters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from connectors.bitrix24.phpquery import encode
from connectors.common.http import parse_retry_after
from sync.push.budgets import RateBudget, account_key, shared_budget
from sync.push.destination import RateLimitSettings, WriterStats
from sync.push.retries import ApiError, AuthError, RateLimited, RetryPolicy, TransportError, call_with_retries
from sync.redaction import register_secret

__all__ = ["DEFAULT_RATE_LIMIT", "RetailCrmClient", "describe", "open_client"]

DEFAULT_RATE_LIMIT = RateLimitSettings(max_requests=10, interval_seconds=1)


def describe(body: Mapping[str, Any]) -> str:
    """`errorMsg` with its per-field errors: 'Errors in the entity format (email: "x" is not valid)'."""
    message = str(body.get("errorMsg") or "RetailCRM refused the request")
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    elif isinstance(errors, list) and errors:
        message += " (" + "; ".join(map(str, errors)) + ")"
    return message


class RetailCrmClient:
    """Calls one RetailCRM account, paced by its shared budget, retried by the table."""

    def __init__(self, base_url: str, api_key: str, *, budget: RateBudget, site: str | None, timeout: float = 30.0,
                 policy: RetryPolicy | None = None, stats: WriterStats | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        register_secret(api_key)
        self.budget, self.site, self.timeout = budget, site, timeout
        self.policy = policy or RetryPolicy()
        self.stats = stats or WriterStats()
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def _send(self, method: str, path: str, query: Mapping[str, Any] | None, form: Mapping[str, Any] | None,
              accept: tuple[int, ...]) -> dict[str, Any]:
        self.budget.acquire()
        url = f"{self.base_url}{path}" + (f"?{encode(dict(query))}" if query else "")
        data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in (form or {}).items()}
        if self.site and form is not None:
            data.setdefault("site", self.site)
        try:
            reply = self.session.request(method, url, data=data if form is not None else None, timeout=self.timeout,
                                         headers={"X-API-KEY": self._key})
        except requests.ConnectTimeout as exc:
            raise TransportError("connect", f"{method} {path}: {exc}", sent=False) from None
        except requests.Timeout as exc:
            raise TransportError("timeout", f"{method} {path}: no answer within {self.timeout}s", sent=True) from exc
        except requests.ConnectionError as exc:
            reason = exc.args[0] if exc.args else None
            refused = isinstance(getattr(reason, "reason", reason), NewConnectionError)
            raise TransportError("connect" if refused else "reset", f"{method} {path}: {exc}",
                                 sent=not refused) from None
        finally:
            self.stats.requests += 1
        status = reply.status_code
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        text = reply.text.lstrip()
        if text.startswith("<"):
            raise ApiError(404, f"{self.base_url} answered with an HTML page: the RetailCRM account does not "
                           "exist (check base_url, e.g. https://ACCOUNT.retailcrm.ru/api/v5)")
        try:
            body = reply.json()
        except ValueError:
            body = {"errorMsg": text[:300] or reply.reason}
        body = body if isinstance(body, dict) else {"errorMsg": str(body)[:300]}
        if status in (429, 503):
            self.stats.rate_limited += 1
            raise RateLimited(status, describe(body), body=body,
                              retry_after=parse_retry_after(reply.headers.get("Retry-After")))
        if status == 401 or status == 403:
            raise AuthError(status, f"{describe(body)} (check the RetailCRM API key and its permissions)", body=body)
        if status in accept:
            self.budget.observe()
            return body
        if status >= 400 or body.get("success") is False:
            raise ApiError(status if status >= 400 else 400, describe(body), body=body)
        self.budget.observe()
        return body

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                form: Mapping[str, Any] | None = None, idempotent: bool = True,
                accept: tuple[int, ...] = ()) -> dict[str, Any]:
        """One call; `accept` lists error statuses returned as bodies (e.g. 460 for a partial upload)."""
        return call_with_retries(lambda: self._send(method, path, query, form, accept), idempotent=idempotent,
                                 what=f"RetailCRM {method} {path}", throttled=self._throttled, policy=self.policy)

    def _throttled(self, error: RateLimited) -> float:
        self.budget.throttled(error.retry_after)
        return 0.0


def open_client(*, base_url: str | None, api_key: str | None, site: str | None,
                rate_limit: RateLimitSettings | None, account: str | None = None, timeout: float = 30.0,
                policy: RetryPolicy | None = None) -> RetailCrmClient:
    """A client on the account's shared budget; clear errors when the URL or key is missing."""
    if not base_url:
        raise ValueError("RetailCRM needs base_url: https://ACCOUNT.retailcrm.ru/api/v5")
    if not api_key:
        raise ValueError("RetailCRM needs an API key: set `token: \"${RETAILCRM_API_KEY}\"` and export it")
    limits = rate_limit or DEFAULT_RATE_LIMIT
    key = account_key("retailcrm", base_url, api_key, account)
    budget = shared_budget(key, limits.max_requests, limits.interval_seconds, daily=limits.daily)
    return RetailCrmClient(base_url, api_key, budget=budget, site=site, timeout=timeout, policy=policy)
