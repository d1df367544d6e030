"""Run the web application with uvicorn (what `crmsync serve` calls)."""

from __future__ import annotations

import uvicorn

from crmsync.config import Project
from crmsync.web.app import create_app

__all__ = ["serve"]


def serve(project: Project, *, host: str = "127.0.0.1", port: int = 8000, access_log: bool = False) -> None:
    """Serve the app until interrupted; the store opens (and migrates) on startup."""
    app = create_app(project)
    # Our logging is configured by the CLI; uvicorn's own config would replace it.
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_config=None, lifespan="on",
                timeout_graceful_shutdown=10)
