"""What every admin page shares: the Jinja templates, the page context, flash messages, redirects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from crmsync.config import Project
from crmsync.web.auth import Viewer, current_viewer
from sync.store import Store

__all__ = ["FLASH_COOKIE", "TEMPLATES", "back", "flash", "project_of", "render", "store_of", "value_text"]

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(WEB_DIR / "templates"))  # autoescapes .html: names are data, not markup
FLASH_COOKIE = "crmsync_flash"


def value_text(value: Any) -> str:
    """A field value as one line of text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


TEMPLATES.env.filters["value"] = value_text


def store_of(request: Request) -> Store:
    """The app's store."""
    store: Store = request.app.state.store
    return store


def project_of(request: Request) -> Project:
    """The app's project."""
    project: Project = request.app.state.project
    return project


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the viewer, their CSRF token and any flash message in its context."""
    viewer: Viewer = current_viewer(request)
    raw = request.cookies.get(FLASH_COOKIE)
    message = None
    if raw:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
    response = TEMPLATES.TemplateResponse(request, template, {
        "viewer": viewer, "csrf": viewer.csrf_token, "flash": message, **context}, status_code=status_code)
    if raw:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def flash(response: RedirectResponse, text: str, kind: str = "ok", link: tuple[str, str] | None = None,
          undo: bool = False) -> RedirectResponse:
    """Show `text` on the next page (kind: ok or error), with an optional (label, href) link and undo button."""
    body = {"text": text[:400], "kind": kind, "link": list(link) if link else None, "undo": undo}
    response.set_cookie(FLASH_COOKIE, json.dumps(body), max_age=60, httponly=True, samesite="lax", path="/")
    return response


def back(path: str, params: dict[str, Any] | None = None) -> RedirectResponse:
    """A 303 redirect (after a POST) to a local path with query parameters."""
    if not path.startswith("/") or path.startswith("//"):
        path = "/queue"  # never redirect off-site
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    return RedirectResponse(path + (f"?{urlencode(clean)}" if clean else ""), status_code=303)
