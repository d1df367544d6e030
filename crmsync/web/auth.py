"""Who may use the admin app: argon2 passwords, session cookies, roles, CSRF tokens, login throttling.

Every request passes `SessionGate` (an ASGI middleware): only the login page, static files, the
health check and the form webhooks (which carry their own HMAC signatures) are public; anything
else needs a live session, or gets a redirect to the login page (pages) or 401 (API and POSTs).
State-changing routes also depend on `csrf_protect`, which answers 403 without the session's token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.store import Store
from sync.store.users import SessionRow, UserRow, load_session

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "LoginThrottle",
    "Viewer",
    "csrf_protect",
    "current_viewer",
    "hash_password",
    "is_public",
    "new_token",
    "require_role",
    "session_expiry",
    "SessionGate",
    "token_digest",
    "verify_password",
]

SESSION_COOKIE = "crmsync_session"
LOGIN_CSRF_COOKIE = "crmsync_login_csrf"
_RANK = {"viewer": 0, "reviewer": 1, "admin": 2}
_PUBLIC_EXACT = frozenset({"/login", "/health", "/favicon.ico"})
_PUBLIC_PREFIXES = ("/static/", "/hooks/forms/")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches the hash (None: no such user, checked against a dummy anyway)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A random URL-safe token (session id, CSRF token)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the store keeps of a session token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_public(path: str) -> bool:
    """Paths anyone may reach without logging in."""
    return path in _PUBLIC_EXACT or path.startswith(_PUBLIC_PREFIXES)


@dataclass(frozen=True)
class Viewer:
    """The logged-in person behind a request."""

    user: UserRow
    token_hash: str
    csrf_token: str
    last_decision: dict[str, object] | None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def actor(self) -> str:
        """The audit actor: 'user:<name>'."""
        return f"user:{self.user.name}"

    def can(self, role: str) -> bool:
        """True if this person's role includes `role` (admin ⊃ reviewer ⊃ viewer)."""
        return _RANK.get(self.user.role, -1) >= _RANK[role]


class LoginThrottle:
    """At most `limit` wrong passwords per user name and per client address in a sliding window.

    Kept in memory: one server process holds the app. Past the limit, every attempt (right or
    wrong) is refused with 429 until the oldest failure leaves the window.
    """

    def __init__(self, limit: int = 10, window_seconds: float = 900.0) -> None:
        self.limit, self.window = limit, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, keys: list[str]) -> int:
        """Seconds until these keys may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self._recent(k, now)[0] + self.window - now for k in keys
                     if len(self._recent(k, now)) >= self.limit]
        return int(max(waits) + 1) if waits else 0

    def failed(self, keys: list[str]) -> None:
        """Count a wrong password against each key."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # made-up names must not grow this without bound
                for k in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[k]
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, key: str) -> None:
        """A right password clears the user name's failures (not the address's)."""
        with self._lock:
            self._failures.pop(key, None)


async def _viewer(request: Request, store: Store) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    digest = token_digest(token)

    def load() -> SessionRow | None:
        with store.session() as session:
            return load_session(session, digest, now=datetime.now(UTC))

    row = await run_in_threadpool(load)
    if row is None:
        return None
    return Viewer(row.user, digest, row.csrf_token, row.last_decision)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "*/*")
    return (request.method in _SAFE_METHODS and not request.url.path.startswith("/api/")
            and ("text/html" in accept or "*/*" in accept))


class SessionGate:
    """ASGI middleware: attach the logged-in Viewer, or turn the request away unless its path is public.

    Public paths (the webhooks above all) pass straight through, untouched; the others get a
    `Server-Timing: app;dur=…` header with the server's own time for them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        store: Store | None = getattr(request.app.state, "store", None)
        viewer = await _viewer(request, store) if store is not None else None
        if viewer is None:
            if _wants_html(request):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                refusal: Response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            else:
                refusal = JSONResponse({"error": "unauthorized", "detail": "log in first: POST /login"},
                                       status_code=401)
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = viewer

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", took.encode("latin-1"))]}
            await send(message)

        await self.app(scope, receive, timed)


def current_viewer(request: Request) -> Viewer:
    """The Viewer the gate attached (the gate guarantees one on non-public paths)."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is None:
        raise HTTPException(401, "log in first")
    return viewer


async def csrf_protect(request: Request) -> None:
    """Dependency for state-changing routes: the session's CSRF token in the form or X-CSRF-Token, else 403."""
    viewer = current_viewer(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require_role(role: str) -> Callable[[Request], Viewer]:
    """Dependency: the Viewer, if their role includes `role`, else 403."""

    def check(request: Request) -> Viewer:
        viewer = current_viewer(request)
        if not viewer.can(role):
            raise HTTPException(403, f"this needs the {role} role; you are {viewer.role}")
        return viewer

    return check


def session_expiry(hours: float) -> tuple[datetime, datetime]:
    """(now, when a session started now expires)."""
    now = datetime.now(UTC)
    return now, now + timedelta(hours=hours)
