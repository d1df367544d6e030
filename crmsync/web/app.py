"""crmsync's web application: the form-webhook inbox and the admin pages (review, golden records, dashboard).

`POST /hooks/forms/{source}` answers 200 only after the raw submission is committed to the
inbox table, so a sender that got 200 never needs to send again, and one that did not
(timeout, 503) may retry safely: the inbox is idempotent by submission id.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from connectors.webforms import PayloadError, SignatureError, UnsupportedMediaType, parse_submission, verify_request
from crmsync.config import Project
from crmsync.web import dashboard, golden, login, review
from crmsync.web.auth import LoginThrottle, SessionGate
from crmsync.web.hooks import HookSource, hook_sources
from crmsync.web.pages import WEB_DIR, render
from crmsync.web.writer import InboxUnavailable, InboxWriter
from sync.store import InboxSubmissionIn, Store, open_durable_store

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class _Rejected(Exception):
    """A request the inbox refuses, with the status and the message the sender gets."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise _Rejected(400, "bad_request", "Content-Length is not a number") from None
        if size > limit:
            raise _Rejected(413, "too_large", f"body of {size} bytes is over this source's limit of {limit} "
                                              "bytes (max_body_bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _Rejected(413, "too_large", f"body is over this source's limit of {limit} bytes (max_body_bytes)")
    return bytes(body)


def create_app(project: Project, *, database_url: str | None = None, session_hours: float = 8.0,
               login_attempts: int = 10) -> FastAPI:
    """The FastAPI app for a project; the store opens (and migrates) when the app starts.

    Admin sessions last `session_hours`; `login_attempts` wrong passwords (per name, per address)
    within 15 minutes throttle further logins with 429.
    """
    hooks = hook_sources(project)  # raises ConfigError before anything listens
    url = database_url or project.database_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store: Store = await run_in_threadpool(open_durable_store, url)
        writer = InboxWriter(store)
        writer.start()
        app.state.store, app.state.writer = store, writer
        log.info("inbox open at %s for %s", store.url, ", ".join(hooks) or "no webforms sources")
        try:
            yield
        finally:
            await run_in_threadpool(writer.stop)
            store.dispose()

    app = FastAPI(title="crmsync", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.hooks, app.state.project, app.state.session_hours = hooks, project, session_hours
    app.state.throttle = LoginThrottle(limit=login_attempts)
    app.add_middleware(SessionGate)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    for module in (login, review, golden, dashboard):
        app.include_router(module.router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """Pages get an HTML error page; the API, webhooks and scripts get JSON."""
        if getattr(request.state, "viewer", None) is not None and "text/html" in request.headers.get("accept", ""):
            return render(request, "error.html", status_code=exc.status_code, status=exc.status_code,
                          message=str(exc.detail))
        return await http_exception_handler(request, exc)

    @app.get("/health")
    async def health(request: Request) -> JSONResponse:
        """200 when the inbox can take submissions, else 503 with the reason."""
        writer: InboxWriter = request.app.state.writer
        store: Store = request.app.state.store

        def ping() -> None:
            with store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except SQLAlchemyError as exc:
            return _error(503, "store_unavailable", f"cannot reach the store ({type(exc).__name__})")
        if not writer.alive:
            return _error(503, "writer_stopped", "the inbox writer is not running")
        return JSONResponse({"status": "ok", "sources": sorted(hooks), "stored": writer.stored})

    @app.post("/hooks/forms/{source}")
    async def form_hook(source: str, request: Request) -> JSONResponse:
        """Verify, parse and durably store one form submission."""
        hook = hooks.get(source)
        if hook is None:
            return _error(404, "unknown_source", f"no form webhook named {source!r}: add a source with "
                                                 "`connector: webforms` of that name to crmsync.yaml")
        try:
            return await _accept(request, hook)
        except _Rejected as exc:
            if exc.status == 401:
                log.warning("inbox %s: rejected a post from %s: %s", source,
                            request.client.host if request.client else "?", exc.detail)
            return _error(exc.status, exc.code, exc.detail)

    async def _accept(request: Request, hook: HookSource) -> JSONResponse:
        body = await _read_body(request, hook.max_body_bytes)
        try:
            verify_request(hook.signature, hook.secret, body, request.headers, request.query_params,
                           window=hook.replay_window_seconds)
        except SignatureError as exc:
            raise _Rejected(401, "unauthorized", str(exc)) from None
        try:
            parsed = parse_submission(request.headers.get("content-type"), body, request.headers)
        except UnsupportedMediaType as exc:
            raise _Rejected(415, "unsupported_media_type", str(exc)) from None
        except PayloadError as exc:
            raise _Rejected(400, "malformed", str(exc)) from None
        if parsed.test:
            return JSONResponse({"status": "test", "detail": "connection test received; nothing stored"})
        item = InboxSubmissionIn(
            source=hook.name, submission_id=parsed.submission_id, shape=parsed.shape,
            content_type=request.headers.get("content-type", "")[:200], body=body, fields=parsed.fields,
            received_at=datetime.now(UTC))
        writer: InboxWriter = request.app.state.writer
        try:
            result = await writer.submit(item)
        except InboxUnavailable as exc:
            return JSONResponse({"error": "unavailable", "detail": str(exc)}, status_code=503,
                                headers={"Retry-After": "5"})
        status = "accepted" if result.new else "duplicate"
        log.debug("inbox %s: %s submission %s as %d", hook.name, status, parsed.submission_id, result.id)
        return JSONResponse({"status": status, "submission_id": parsed.submission_id, "inbox_id": result.id})

    return app
