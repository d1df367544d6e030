"""The Bitrix24 REST client: inbound-webhook URL auth, the shared leaky-bucket budget, batch of 50.

The webhook URL (`https://portal.bitrix24.ru/rest/1/abc123`) is the credential: it is registered
as a secret so it never reaches logs, errors or the audit log. Bitrix24 answers an over-limit
request with 503 QUERY_LIMIT_EXCEEDED; that is a rate limit (the request was not carried out),
not a server error, so it is raised as RateLimited and waited out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from connectors.bitrix24.phpquery import encode
from connectors.common.http import parse_retry_after
from sync.push.budgets import RateBudget, account_key, shared_budget
from sync.push.destination import RateLimitSettings, WriterStats
from sync.push.retries import ApiError, AuthError, RateLimited, RetryPolicy, TransportError, call_with_retries
from sync.redaction import register_secret

__all__ = ["BATCH_LIMIT", "BitrixClient", "BitrixCommandError", "DEFAULT_RATE_LIMIT", "open_client"]

BATCH_LIMIT = 50
# the bucket drains 2 requests per second (non-Enterprise); a long window with a small burst models it
DEFAULT_RATE_LIMIT = RateLimitSettings(max_requests=100, interval_seconds=50)


class BitrixCommandError(ApiError):
    """One command of a batch failed (the others may have succeeded)."""


class BitrixClient:
    """Calls Bitrix24 REST methods through one inbound webhook, paced by the portal's shared budget."""

    def __init__(self, webhook_url: str, *, budget: RateBudget, timeout: float = 30.0,
                 policy: RetryPolicy | None = None, stats: WriterStats | None = None) -> None:
        self.webhook_url = webhook_url.rstrip("/")
        register_secret(self.webhook_url.rsplit("/", 1)[-1])  # the webhook code is the password
        register_secret(self.webhook_url)
        self.budget = budget
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.stats = stats or WriterStats()
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def _throttled(self, error: RateLimited) -> float:
        self.budget.throttled(error.retry_after)
        return 0.0

    def _send(self, method: str, params: Mapping[str, Any]) -> Any:
        self.budget.acquire()
        try:
            reply = self.session.post(f"{self.webhook_url}/{method}.json", json=dict(params), timeout=self.timeout)
        except requests.ConnectTimeout as exc:
            raise TransportError("connect", f"{method}: {exc}", sent=False) from None
        except requests.Timeout as exc:
            raise TransportError("timeout", f"{method}: no answer within {self.timeout}s ({exc})", sent=True) from None
        except requests.ConnectionError as exc:
            reason = exc.args[0] if exc.args else None
            refused = isinstance(getattr(reason, "reason", reason), NewConnectionError)
            raise TransportError("connect" if refused else "reset", f"{method}: {exc}", sent=not refused) from None
        finally:
            self.stats.requests += 1
        self.stats.statuses[reply.status_code] = self.stats.statuses.get(reply.status_code, 0) + 1
        try:
            body = reply.json()
        except ValueError:
            body = {"error": "", "error_description": reply.text[:300] or reply.reason}
        body = body if isinstance(body, dict) else {"result": body}
        code = str(body.get("error") or "")
        message = str(body.get("error_description") or code or reply.reason)
        if code in ("QUERY_LIMIT_EXCEEDED", "OVERLOAD_LIMIT") or reply.status_code == 429:
            self.stats.rate_limited += 1
            raise RateLimited(reply.status_code, message, category=code or None, body=body,
                              retry_after=parse_retry_after(reply.headers.get("Retry-After")))
        if reply.status_code == 401 or code in ("NO_AUTH_FOUND", "INVALID_CREDENTIALS", "expired_token"):
            raise AuthError(reply.status_code, f"{message} (check the Bitrix24 inbound webhook URL and its CRM "
                            "permission)", category=code or None, body=body)
        if reply.status_code >= 400 or "error" in body:
            raise ApiError(reply.status_code if reply.status_code >= 400 else 400, message, category=code or None,
                           body=body)
        self.budget.observe()
        return body.get("result")

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = True) -> Any:
        """One REST method; returns its `result`."""
        return call_with_retries(lambda: self._send(method, params or {}), idempotent=idempotent,
                                 what=f"Bitrix24 {method}", throttled=self._throttled, policy=self.policy)

    def batch(self, commands: Mapping[str, tuple[str, dict[str, Any]]], *,
              idempotent: bool = True) -> tuple[dict[str, Any], dict[str, BitrixCommandError]]:
        """Up to 50 named commands in one request (one unit of the rate limit): (results, errors) by name."""
        if len(commands) > BATCH_LIMIT:
            raise ValueError(f"a Bitrix24 batch holds at most {BATCH_LIMIT} commands, not {len(commands)}")
        cmd = {name: f"{method}?{encode(params)}" for name, (method, params) in commands.items()}
        result = self.call("batch", {"halt": 0, "cmd": cmd}, idempotent=idempotent) or {}
        errors = {name: BitrixCommandError(400, str((e or {}).get("error_description") or (e or {}).get("error")),
                                           category=(e or {}).get("error") or None)
                  for name, e in (result.get("result_error") or {}).items()}
        return dict(result.get("result") or {}), errors


def open_client(*, webhook_url: str | Callable[[], str] | None, rate_limit: RateLimitSettings | None = None,
                account: str | None = None, timeout: float = 30.0, policy: RetryPolicy | None = None) -> BitrixClient:
    """A client on the portal's shared budget; a clear error when the webhook URL is missing."""
    url = webhook_url() if callable(webhook_url) else webhook_url
    if not url or "/rest/" not in url:
        raise ValueError("Bitrix24 needs its inbound webhook URL, like https://PORTAL.bitrix24.ru/rest/1/CODE: set "
                         "`token: \"${BITRIX24_WEBHOOK}\"` (or base_url) and export it")
    limits = rate_limit or DEFAULT_RATE_LIMIT
    key = account_key("bitrix24", url.split("/rest/", 1)[0], url, account)
    budget = shared_budget(key, limits.max_requests, limits.interval_seconds, daily=limits.daily)
    return BitrixClient(url, budget=budget, timeout=timeout, policy=policy)
