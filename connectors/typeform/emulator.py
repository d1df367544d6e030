"""A local Typeform Responses API (contract 8a): Bearer token, newest-first pages, before/since/until.

Refuses what Typeform refuses: a missing or wrong token (401 AUTHENTICATION_FAILED), an
unknown form (404 FORM_NOT_FOUND), page_size over 1000 or an unknown `before` token (400),
and more than 2 requests a second (429 with Retry-After; `requests_per_second` changes it).
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Route

__all__ = ["TypeformEmulator"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class TypeformEmulator(Emulator):
    """Responses of some forms, for one personal token."""

    name = "typeform-emulator"

    def __init__(self, token: str, form_ids: list[str], *, requests_per_second: int | None = 2) -> None:
        self.token = token
        self.responses: dict[str, list[dict[str, Any]]] = {form: [] for form in form_ids}
        self._data_lock = threading.Lock()
        super().__init__()
        if requests_per_second:  # Typeform's documented 2 requests a second per token
            self.limit_rate(requests_per_second, window=1.0, permanent=True)

    def routes(self) -> list[Route]:
        """The responses of a form."""
        return [Route("GET", r"/forms/(?P<form_id>[^/]+)/responses", self._responses, group="responses")]

    def error(self, status: int, message: str, code: str | None = None) -> EmuResponse:
        """Typeform's error body: {code, description}."""
        code = code or {401: "AUTHENTICATION_FAILED", 404: "NOT_FOUND", 429: "RATE_LIMITED"}.get(
            status, "SERVER_ERROR" if status >= 500 else "VALIDATION_ERROR")
        return EmuResponse(status, {"code": code, "description": message})

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """`Authorization: Bearer <token>`."""
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error(401, "Authentication credentials not found on the Request Headers")
        return None

    def add_responses(self, form_id: str, count: int, *, start: datetime | None = None,
                      step: timedelta = timedelta(minutes=30)) -> list[dict[str, Any]]:
        """Append `count` synthetic responses to a form, after its last one by default."""
        with self._data_lock:
            existing = self.responses[form_id]
            if start is None:
                start = (max((r["_at"] for r in existing), default=datetime(2024, 5, 1, 9, tzinfo=UTC)) + step)
            made = []
            for i in range(count):
                at = start + step * i
                n = len(existing) + 1
                token = secrets.token_hex(16)
                item = {
                    "landing_id": token, "token": token, "response_id": token, "landed_at": _iso(at - timedelta(
                        minutes=2)), "submitted_at": _iso(at),
                    "metadata": {"user_agent": "Mozilla/5.0", "platform": "other", "referer":
                                 f"https://example.test/contact?n={n}", "network_id": "abc", "browser": "default"},
                    "hidden": {"utm_source": "ads" if n % 2 else "newsletter"}, "calculated": {"score": 0},
                    "variables": [],
                    "answers": [
                        {"field": {"id": "fName", "type": "short_text", "ref": "name"}, "type": "text",
                         "text": f"Person {n}"},
                        {"field": {"id": "fMail", "type": "email", "ref": "email"}, "type": "email",
                         "email": f"person{n}@example.test"},
                        {"field": {"id": "fPhone", "type": "phone_number", "ref": "phone"}, "type": "phone_number",
                         "phone_number": f"+7912{n:07d}"},
                        {"field": {"id": "fTopic", "type": "multiple_choice", "ref": "topic"}, "type": "choice",
                         "choice": {"label": "Sales"}},
                    ],
                    "_at": at,
                }
                existing.append(item)
                made.append(item)
            return made

    def _responses(self, request: EmuRequest) -> EmuResponse:
        form_id = request.params["form_id"]
        if form_id not in self.responses:
            return self.error(404, f"Form {form_id} not found", "FORM_NOT_FOUND")
        try:
            size = int(request.arg("page_size", "25") or 25)
            since = _parse_time(request.arg("since") or "1970-01-01T00:00:00Z")
            until = _parse_time(request.arg("until") or "2999-01-01T00:00:00Z")
        except ValueError as exc:
            return self.error(400, f"invalid parameter: {exc}")
        if not 1 <= size <= 1000:
            return self.error(400, "page_size must be between 1 and 1000")
        with self._data_lock:
            items = [r for r in self.responses[form_id] if since <= r["_at"] <= until]
        items.sort(key=lambda r: (r["_at"], r["token"]), reverse=True)  # newest first
        before = request.arg("before")
        if before:
            tokens = [r["token"] for r in items]
            if before not in tokens:
                return self.error(400, f"unknown response token in before: {before}")
            items = items[tokens.index(before) + 1:]
        page = items[:size]
        return EmuResponse(200, {"total_items": len(items), "page_count": max(1, -(-len(items) // size)),
                                 "items": [{k: v for k, v in r.items() if not k.startswith("_")} for r in page]})
