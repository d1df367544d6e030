"""crmsync's web application (FastAPI): the form-webhook inbox; the admin pages build on it."""

from __future__ import annotations

from crmsync.web.app import create_app
from crmsync.web.server import serve

__all__ = ["create_app", "serve"]
