"""Logging in and out of the admin app."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crmsync.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    Viewer,
    csrf_protect,
    current_viewer,
    new_token,
    session_expiry,
    token_digest,
    verify_password,
)
from crmsync.web.pages import TEMPLATES, store_of
from sync.store.users import create_session, delete_session, get_user

__all__ = ["router"]

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not target.startswith("/login"):
        return target
    return "/queue"


def _login_page(request: Request, *, error: str | None = None, next_path: str = "/queue", name: str = "",
                status_code: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = TEMPLATES.TemplateResponse(request, "login.html", {
        "viewer": None, "csrf": token, "error": error, "next": next_path, "name": name, "flash": None},
        status_code=status_code)
    secure = request.url.scheme == "https"
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=secure,
                        path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002 - the query name
    """The login page."""
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login", response_model=None)
async def login(request: Request, name: Annotated[str, Form(max_length=64)] = "",
                password: Annotated[str, Form(max_length=1024)] = "",
                csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/queue",  # noqa: A002
                ) -> Response:
    """Check the password (throttled), start a session, set its cookie."""
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return _login_page(request, error="Your login form expired; please try again.", next_path=next_path,
                           name=name, status_code=403)
    throttle: LoginThrottle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    keys = [f"name:{name.strip().lower()}", f"addr:{client}"]
    wait = throttle.wait(keys)
    if wait:
        response = _login_page(request, error=f"Too many failed logins. Try again in {wait // 60 + 1} minute(s).",
                               next_path=next_path, name=name, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    store = store_of(request)

    def check() -> int | None:
        with store.session() as session:
            found = get_user(session, name.strip())
        user, digest = found if found is not None else (None, None)
        ok = verify_password(digest, password)
        return user.id if ok and user is not None and not user.disabled else None

    user_id = await run_in_threadpool(check)
    if user_id is None:
        throttle.failed(keys)
        return _login_page(request, error="Wrong user name or password.", next_path=next_path, name=name,
                           status_code=401)
    throttle.succeeded(keys[0])
    token, csrf = new_token(), new_token()
    hours: float = request.app.state.session_hours
    now, expires = session_expiry(hours)

    def start() -> None:
        with store.session() as session:
            create_session(session, user_id, token_digest(token), csrf, now=now, expires_at=expires)

    await run_in_threadpool(start)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(csrf_protect)])
async def logout(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> RedirectResponse:
    """End the session."""
    store = store_of(request)

    def end() -> None:
        with store.session() as session:
            delete_session(session, viewer.token_hash)

    await run_in_threadpool(end)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
