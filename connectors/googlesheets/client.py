"""The Sheets API client: crmsync's retrying JSON client with Google's credentials and error bodies.

Credentials, exactly one of:
- an API key, sent as the `X-goog-api-key` header (never in the URL, so never in a logged URL);
- a fixed OAuth access token (`Authorization: Bearer`);
- a service account's JSON key: google-auth signs a JWT and exchanges it at the key's
  `token_uri` for an access token, refreshed before it expires; a 401 mid-read refreshes once.

Google answers a wrong API key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID); that is a
credentials problem, reported like 401/403. 429 RESOURCE_EXHAUSTED (the per-minute read quota)
carries no Retry-After: the client backs off exponentially until the quota refills.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.oauth2 import service_account

from connectors.common.http import ApiClient, AuthError, TransientError
from sync.redaction import redact, register_secret

if TYPE_CHECKING:
    from connectors.googlesheets.source import GoogleSheetsConfig

__all__ = ["SCOPES", "ServiceAccountAuth", "SheetsClient", "client_for"]

SCOPES = ["https://www.googleapis.com/auth/spreadsheets.readonly"]


def _google_error(response: requests.Response) -> str | None:
    """`STATUS: message` from Google's `{error: {code, message, status}}`."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return ": ".join(str(error[k]) for k in ("status", "message") if error.get(k))[:300] or None
    return None


def _reasons(response: requests.Response) -> set[str]:
    try:
        details = response.json()["error"]["details"]
        return {str(d.get("reason")) for d in details if isinstance(d, Mapping)}
    except (ValueError, KeyError, TypeError):
        return set()


class ServiceAccountAuth(requests.auth.AuthBase):
    """Bearer tokens from a service account key, fetched and refreshed by google-auth."""

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.credentials = service_account.Credentials.from_service_account_info(dict(info), scopes=SCOPES)
        self._transport = google.auth.transport.requests.Request()

    def invalidate(self) -> None:
        """Forget the token, so that the next request fetches a new one."""
        self.credentials.token = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        try:
            self.credentials.before_request(self._transport, request.method, request.url, request.headers)
        except google.auth.exceptions.RefreshError as exc:
            reason = exc.args[0] if exc.args else type(exc).__name__
            raise AuthError(f"Google refused the service account's credentials ({reason}); check "
                            "service_account_info (the JSON key of a service account that is not disabled)") from None
        except google.auth.exceptions.TransportError:
            raise TransientError("cannot reach the service account's token_uri to get an access token") from None
        if self.credentials.token:
            register_secret(self.credentials.token)
        return request


class SheetsClient(ApiClient):
    """ApiClient plus Google's quirks: API_KEY_INVALID is a credentials error; a 401 refreshes a token once."""

    def _decode(self, response: requests.Response, method: str, where: str) -> Any:
        if response.status_code == 400 and "API_KEY_INVALID" in _reasons(response):
            said = _google_error(response) or "API key not valid"
            raise AuthError(f"{self.api_name} refused the credentials (HTTP 400: {said}); check "
                            f"{self.credentials_hint}", 400)
        return super()._decode(response, method, where)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request with retries; a service-account token refused with 401 is renewed once."""
        try:
            return super().request_json(method, path, **kwargs)
        except AuthError as exc:
            auth = self.session.auth
            if exc.status != 401 or not isinstance(auth, ServiceAccountAuth):
                raise
            auth.invalidate()
            return super().request_json(method, path, **kwargs)


def client_for(config: GoogleSheetsConfig) -> SheetsClient:
    """A client for the configured credentials."""
    headers: dict[str, str] = {}
    auth: requests.auth.AuthBase | None = None
    if config.api_key is not None:
        headers["X-goog-api-key"] = config.api_key.get_secret_value()
        hint = "api_key (a valid key, and the spreadsheet shared with 'anyone with the link')"
    elif config.access_token is not None:
        headers["Authorization"] = f"Bearer {config.access_token.get_secret_value()}"
        hint = "access_token (an unexpired OAuth token with a spreadsheets or drive scope)"
    else:
        assert config.service_account_info is not None
        auth = ServiceAccountAuth(json.loads(config.service_account_info.get_secret_value()))
        hint = "service_account_info, and that the spreadsheet is shared with the service account's client_email"
    return SheetsClient(config.base_url, api_name="Google Sheets", settings=config, credentials_hint=redact(hint),
                        headers=headers, auth=auth, error_text=_google_error)
