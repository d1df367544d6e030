"""A small JSON-over-HTTP client with crmsync's retry table (requests + tenacity).

| what happened | what we do |
|---|---|
| 429, or 503 with Retry-After | wait Retry-After (seconds or HTTP date), capped; else back off |
| other 5xx, timeout, reset or refused connection | back off exponentially with jitter |
| 401 / 403 | stop: `AuthError`, naming the credentials to check |
| other 4xx, a body that is not JSON | stop: `ApiError` with the API's own message |

Error text goes through `sync.redaction.redact`, and URLs in messages carry no query string.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from sync.redaction import redact

__all__ = ["ApiClient", "ApiError", "AuthError", "HttpSettings", "TransientError"]

log = logging.getLogger(__name__)
ErrorText = Callable[[requests.Response], str | None]


class HttpSettings(BaseModel):
    """Timeouts, retries and pacing; every HTTP source's config has these keys."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float = Field(30.0, gt=0, le=600, description="per request (connect and each read)")
    max_retries: int = Field(5, ge=0, le=20, description="retries of 429, 5xx, timeouts and resets")
    backoff_seconds: float = Field(1.0, ge=0, le=60, description="first back-off; doubles each retry")
    max_wait_seconds: float = Field(120.0, ge=0, le=3600, description="cap on any one wait, Retry-After included")
    requests_per_minute: float | None = Field(None, gt=0, description="pace requests below the API's limit")
    base_dir: str | None = Field(None, description="project folder (set by crmsync; unused by HTTP sources)")


class ApiError(RuntimeError):
    """The API refused a request for good: retrying will not help. The message names the fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact(message))
        self.status = status


class AuthError(ApiError):
    """The credentials were refused (401/403)."""


class TransientError(ApiError):
    """A failure worth retrying (429, 5xx, timeout, reset); `retry_after` in seconds if the API said."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


class ApiClient:
    """GET/POST JSON against one API, retrying what is transient and explaining what is not."""

    def __init__(
        self,
        base_url: str,
        *,
        api_name: str,
        settings: HttpSettings,
        credentials_hint: str,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        error_text: ErrorText | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.api_name = api_name
        self.settings = settings
        self.credentials_hint = credentials_hint
        self.error_text = error_text or _default_error_text
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", "User-Agent": "crmsync"})
        self.session.headers.update(dict(headers or {}))
        self._pace_lock = threading.Lock()
        self._next_request_at = 0.0
        self.requests_made = 0

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def url(self, path: str) -> str:
        """An absolute URL for a path relative to the base (absolute URLs and '/...' paths work too)."""
        return urljoin(self.base_url, path)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        """GET a JSON document, with retries."""
        return self.request_json("GET", path, params=params, headers=headers)

    def request_json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                     headers: Mapping[str, str] | None = None, data: Any = None) -> Any:
        """Send one request (retried per the table above) and return the decoded JSON body."""
        url = self.url(path)
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            before_sleep=self._log_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._once(method, url, params, headers, data)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _pace(self) -> None:
        per_minute = self.settings.requests_per_minute
        if not per_minute:
            return
        with self._pace_lock:
            now = time.monotonic()
            wait = self._next_request_at - now
            self._next_request_at = max(now, self._next_request_at) + 60.0 / per_minute
        if wait > 0:
            time.sleep(wait)

    def _once(self, method: str, url: str, params: Mapping[str, Any] | None,
              headers: Mapping[str, str] | None, data: Any) -> Any:
        self._pace()
        where = _where(url)
        self.requests_made += 1
        try:
            response = self.session.request(method, url, params=params, headers=headers, data=data,
                                            timeout=self.settings.timeout_seconds)
        except requests.Timeout:
            raise TransientError(f"{self.api_name} did not answer {method} {where} within "
                                 f"{self.settings.timeout_seconds:g} s") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            reason = type(exc.args[0]).__name__ if exc.args and isinstance(exc.args[0], Exception) else "error"
            raise TransientError(f"cannot reach {self.api_name} at {where} (connection {reason}); check "
                                 "the base URL and the network") from None
        return self._decode(response, method, where)

    def _decode(self, response: requests.Response, method: str, where: str) -> Any:
        status = response.status_code
        if status < 400:
            try:
                return response.json()
            except ValueError:
                raise ApiError(f"{self.api_name} answered {method} {where} with HTTP {status} but the body is "
                               f"not JSON ({response.headers.get('content-type', 'no content type')})",
                               status) from None
        detail = self.error_text(response) or response.reason or ""
        said = f"HTTP {status}" + (f": {detail}" if detail else "")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or (status == 503 and retry_after is not None):
            raise TransientError(f"{self.api_name} rate limit on {where} ({said})", status, retry_after)
        if status >= 500:
            raise TransientError(f"{self.api_name} server error on {method} {where} ({said})", status, retry_after)
        if status in (401, 403):
            raise AuthError(f"{self.api_name} refused the credentials ({said}); check {self.credentials_hint}",
                            status)
        raise ApiError(f"{self.api_name} refused {method} {where} ({said})", status)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        cap = self.settings.max_wait_seconds
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(error.retry_after, cap)
        backoff = wait_exponential_jitter(initial=self.settings.backoff_seconds, max=cap,
                                          jitter=self.settings.backoff_seconds)
        return float(backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s (attempt %d of %d; retrying in %.1f s)", error, state.attempt_number,
                    self.settings.max_retries + 1, wait)


def _default_error_text(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and not text.startswith("<") else None
    if isinstance(body, Mapping):
        for key in ("message", "error", "errorMsg", "detail", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])[:300]
    return None
