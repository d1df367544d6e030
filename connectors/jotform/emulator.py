"""A local JotForm API (contract 8b): APIKEY auth, offset pages, `created_at:gt` filters, a daily quota.

Refuses what JotForm refuses: a missing or wrong key (401), an unknown form (404), a limit
over 1000 or a filter that is not JSON (400), and a spent daily quota (429). Every answer
carries the `limit-left` count, as JotForm's does.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Route

__all__ = ["JotformEmulator"]

_FORMAT = "%Y-%m-%d %H:%M:%S"


class JotformEmulator(Emulator):
    """Submissions of some forms for one API key."""

    name = "jotform-emulator"

    def __init__(self, api_key: str, form_ids: list[str], *, daily_limit: int = 10_000) -> None:
        self.api_key = api_key
        self.submissions: dict[str, list[dict[str, Any]]] = {form: [] for form in form_ids}
        self.limit_left = daily_limit
        self._data_lock = threading.Lock()
        self._next_id = 5_900_000_000_000_000_000
        super().__init__()

    def routes(self) -> list[Route]:
        """The account's user and its forms' submissions."""
        return [
            Route("GET", r"/user", self._user, group="user"),
            Route("GET", r"/form/(?P<form_id>[^/]+)/submissions", self._list, group="submissions"),
        ]

    def error(self, status: int, message: str) -> EmuResponse:
        """JotForm's envelope with an empty content."""
        return EmuResponse(status, {"responseCode": status, "message": message, "content": "",
                                    "limit-left": self.limit_left})

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """The `APIKEY` header or the `apiKey` query parameter; each call spends one of the daily quota."""
        key = request.headers.get("apikey") or request.arg("apiKey")
        if key != self.api_key:
            return self.error(401, f"You're not authorized to use ({request.path}) ")
        with self._data_lock:
            if self.limit_left <= 0:
                return self.error(429, "You reached your daily limit")
            self.limit_left -= 1
        return None

    def add_submissions(self, form_id: str, count: int, *, start: datetime | None = None,
                        step: timedelta = timedelta(minutes=30)) -> list[dict[str, Any]]:
        """Append `count` synthetic submissions, after the form's last one by default."""
        with self._data_lock:
            existing = self.submissions[form_id]
            if start is None:
                last = max((datetime.strptime(s["created_at"], _FORMAT) for s in existing),
                           default=datetime(2024, 5, 1, 9))
                start = last + step
            made = []
            for i in range(count):
                self._next_id += 1
                n = len(existing) + 1
                created = (start + step * i).strftime(_FORMAT)
                item = {
                    "id": str(self._next_id), "form_id": form_id, "ip": "203.0.113.7", "created_at": created,
                    "status": "ACTIVE", "new": "1", "flag": "0", "notes": "", "updated_at": None,
                    "answers": {
                        "1": {"name": "heading", "order": "1", "text": "Contact us", "type": "control_head"},
                        "3": {"name": "fullName", "order": "2", "text": "Full Name", "type": "control_fullname",
                              "answer": {"first": f"Person{n}", "last": "Test"}, "prettyFormat": f"Person{n} Test"},
                        "4": {"name": "email", "order": "3", "text": "E-mail", "type": "control_email",
                              "answer": f"person{n}@example.test"},
                        "5": {"name": "phoneNumber", "order": "4", "text": "Phone", "type": "control_phone",
                              "answer": {"full": f"+7912{n:07d}"}, "prettyFormat": f"+7912{n:07d}"},
                    },
                }
                existing.append(item)
                made.append(item)
            return made

    def _user(self, request: EmuRequest) -> EmuResponse:
        return EmuResponse(200, {"responseCode": 200, "message": "success", "limit-left": self.limit_left,
                                 "content": {"username": "crmsync-test", "account_type": "FREE"}})

    def _list(self, request: EmuRequest) -> EmuResponse:
        form_id = request.params["form_id"]
        if form_id not in self.submissions:
            return self.error(404, "Form not found")
        try:
            offset = int(request.arg("offset", "0") or 0)
            limit = int(request.arg("limit", "20") or 20)
            conditions = json.loads(request.arg("filter") or "{}")
        except ValueError as exc:
            return self.error(400, f"invalid parameter: {exc}")
        if not 1 <= limit <= 1000 or offset < 0:
            return self.error(400, "limit must be between 1 and 1000 and offset not negative")
        if not isinstance(conditions, dict):
            return self.error(400, "filter must be a JSON object")
        with self._data_lock:
            items = list(self.submissions[form_id])
        for key, value in conditions.items():
            field, _, operator = key.partition(":")
            if field != "created_at" or operator not in ("gt", "lt", ""):
                return self.error(400, f"unsupported filter {key!r}")
            items = [s for s in items if (s[field] > value if operator == "gt" else
                                          s[field] < value if operator == "lt" else s[field] == value)]
        reverse = (request.arg("direction") or "DESC").upper() != "ASC"
        items.sort(key=lambda s: (s["created_at"], s["id"]), reverse=reverse)
        page = items[offset:offset + limit]
        return EmuResponse(200, {"responseCode": 200, "message": "success", "content": page,
                                 "resultSet": {"offset": offset, "limit": limit, "count": len(page)},
                                 "limit-left": self.limit_left})
