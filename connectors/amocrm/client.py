"""The amoCRM / Kommo API v4 client shared by the source and the destination writer.

Every request takes a token from the account's shared rate budget first (7 requests a second by
default: reads and writes of one account draw from the same bucket), and amoCRM's answers become
the push engine's error types, so the retry table in `sync.push.retries` decides what happens:
429 waits (Retry-After when sent, else until a slot frees), 5xx/timeouts/resets back off, 401 and
403 stop with a sentence naming the token, and 400 keeps amoCRM's `validation-errors` per entity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from sync.push.budgets import RateBudget, account_key, shared_budget
from sync.push.destination import RateLimitSettings, WriterStats
from sync.push.retries import ApiError, AuthError, RateLimited, RetryPolicy, TransportError, call_with_retries
from sync.redaction import register_secret

__all__ = ["DEFAULT_RATE_LIMIT", "AmoClient", "describe", "entity_errors", "open_client"]

DEFAULT_RATE_LIMIT = RateLimitSettings(max_requests=7, interval_seconds=1)
CREDENTIALS = ("check the amoCRM credentials: `token` must be a valid OAuth access token or long-lived token of "
               "this account, and `base_url` the account's own address (https://SUBDOMAIN.amocrm.ru)")


def entity_errors(body: Mapping[str, Any]) -> dict[str, str]:
    """`validation-errors` as {request_id: "path: detail (code); ..."}."""
    found: dict[str, str] = {}
    for entry in body.get("validation-errors") or []:
        if not isinstance(entry, dict):
            continue
        parts = [f"{e.get('path')}: {e.get('detail')} ({e.get('code')})" for e in entry.get("errors") or []
                 if isinstance(e, dict)]
        found[str(entry.get("request_id"))] = "; ".join(parts) or "refused"
    return found


def describe(body: Mapping[str, Any], fallback: str) -> str:
    """problem+json as one sentence: title, detail and the per-entity errors."""
    words = " ".join(str(body[k]) for k in ("title", "detail") if body.get(k)) or fallback
    errors = entity_errors(body)
    if errors:
        words += " [" + " | ".join(f"entity {rid}: {text}" for rid, text in errors.items()) + "]"
    return words


class AmoClient:
    """Authenticated JSON calls to one amoCRM account, paced by its shared budget, retried by the table."""

    def __init__(self, base_url: str, token: str, *, budget: RateBudget, timeout: float = 30.0,
                 policy: RetryPolicy | None = None, stats: WriterStats | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        register_secret(token)
        self.budget = budget
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.stats = stats or WriterStats()
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def _throttled(self, error: RateLimited) -> float:
        self.budget.throttled(error.retry_after)
        return 0.0  # acquire() waits out the pause, together with everyone sharing the account

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, body: Any,
              headers: Mapping[str, str] | None = None) -> Any:
        self.budget.acquire()
        where = urlsplit(url).path
        try:
            reply = self.session.request(method, url, params=params, json=body, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self._token}",
                                                  "Accept": "application/hal+json, application/json",
                                                  **(headers or {})})
        except requests.ConnectTimeout:
            raise TransportError("connect", f"{method} {where}: no connection within {self.timeout}s",
                                 sent=False) from None
        except requests.Timeout:
            raise TransportError("timeout", f"{method} {where}: no answer within {self.timeout}s", sent=True) from None
        except requests.ConnectionError as exc:
            reason = exc.args[0] if exc.args else None
            refused = isinstance(getattr(reason, "reason", reason), NewConnectionError)
            raise TransportError("connect" if refused else "reset", f"{method} {where}: connection "
                                 f"{'refused' if refused else 'reset'}", sent=not refused) from None
        finally:
            self.stats.requests += 1
        status = reply.status_code
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        if status == 204:
            self.budget.observe()
            return None
        try:
            payload = reply.json()
        except ValueError:
            payload = {"detail": reply.text[:200] if reply.text and not reply.text.lstrip().startswith("<")
                       else reply.reason}
        if status < 400:
            self.budget.observe()
            return payload
        payload = payload if isinstance(payload, dict) else {"detail": str(payload)[:300]}
        message = describe(payload, reply.reason or f"HTTP {status}")
        if status == 429:
            self.stats.rate_limited += 1
            after = reply.headers.get("Retry-After")
            raise RateLimited(429, message, body=payload, retry_after=float(after) if after and
                              after.replace(".", "", 1).isdigit() else None)
        if status == 401:
            raise AuthError(status, f"amoCRM refused the credentials on {method} {where} ({message}); {CREDENTIALS}",
                            body=payload)
        if status == 403:  # a stop, not a dead letter: no record can fix it
            raise AuthError(status, f"amoCRM denied {method} {where} ({message}): the account or this IP may be "
                            "blocked for going over 7 requests a second (wait, and keep rate_limit at or under 7 "
                            f"per second), or the token's user lacks rights here; {CREDENTIALS}", body=payload)
        raise ApiError(status, f"{method} {where}: {message}", category=_category(payload), body=payload)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
                idempotent: bool = True, headers: Mapping[str, str] | None = None) -> Any:
        """One call (a path under base_url, or an absolute `_links` href); JSON back, None for 204."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.stats.retried += 1
            return self._send(method, url, params, body, headers)

        return call_with_retries(attempt, idempotent=idempotent, what=f"amoCRM {method} {urlsplit(url).path}",
                                 throttled=self._throttled, policy=self.policy)

    def changed_since(self, entity: str, since: int | None, page_size: int = 250) -> Iterator[dict[str, Any]]:
        """Every record updated at or after `since` (all when None), oldest change first, each once.

        Page numbers shift when a record changes during the walk (it moves to the end of the order),
        so this does not walk `page=1,2,3…`: after each page it asks again from the last `updated_at`
        it saw (skipping the ids it already gave at that second), and follows `_links.next` only
        while a whole page ties on one second.
        """
        lower, page = since, 1
        given: set[int] = set()  # ids given whose updated_at is `lower`
        while True:
            query_from = lower
            params: dict[str, Any] = {"limit": page_size, "order[updated_at]": "asc", "page": page}
            headers = {}
            if lower is not None:
                params["filter[updated_at][from]"] = lower
                headers["If-Modified-Since"] = formatdate(lower, usegmt=True)  # Kommo asks list calls to send it
            body = self.request("GET", f"/api/v4/{entity}", params=params, headers=headers) or {}
            items = list((body.get("_embedded") or {}).get(entity) or [])
            for item in items:
                moment = int(item["updated_at"])
                if moment == lower and item["id"] in given:
                    continue
                if lower is None or moment > lower:
                    lower, given = moment, set()
                given.add(item["id"])
                yield item
            if not items or not (body.get("_links") or {}).get("next"):
                return
            page = page + 1 if lower == query_from else 1  # a whole page on one second: the next page of it

    def pages(self, entity: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, following `_links.next` (204 or a page without `next` ends it)."""
        body = self.request("GET", f"/api/v4/{entity}", params=params)
        while body:
            yield list((body.get("_embedded") or {}).get(entity) or [])
            following = ((body.get("_links") or {}).get("next") or {}).get("href")
            if not following:
                return
            body = self.request("GET", following)


def _category(payload: Mapping[str, Any]) -> str | None:
    codes = sorted({str(e.get("code")) for entry in payload.get("validation-errors") or [] if isinstance(entry, dict)
                    for e in entry.get("errors") or [] if isinstance(e, dict) and e.get("code")})
    return ",".join(codes) or None


def open_client(*, base_url: str | None, token: str | None, rate_limit: RateLimitSettings | None = None,
                account: str | None = None, timeout: float = 30.0, policy: RetryPolicy | None = None) -> AmoClient:
    """A client on the account's shared budget; clear errors when the address or token is missing."""
    if not base_url:
        raise ValueError("amoCRM needs base_url: the account's own address, e.g. https://SUBDOMAIN.amocrm.ru "
                         "(or https://SUBDOMAIN.kommo.com)")
    if not token:
        raise ValueError("amoCRM needs a token: set `token: \"${AMOCRM_TOKEN}\"` and export AMOCRM_TOKEN (an OAuth "
                         "access token or a long-lived token)")
    limits = rate_limit or DEFAULT_RATE_LIMIT
    key = account_key("amocrm", base_url, token, account)
    budget = shared_budget(key, limits.max_requests, limits.interval_seconds, daily=limits.daily)
    return AmoClient(base_url, token, budget=budget, timeout=timeout, policy=policy)
