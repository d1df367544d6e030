"""`crmsync serve`: the web app (form webhooks, admin) and, with schedules, the Prefect runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmsync import cli
from crmsync.cli import ConfigOption, _fail, _project, _store, app, console
from crmsync.config import DEFAULT_PROJECT_FILE, ConfigError


@app.command()
def serve(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the web app: form webhooks at POST /hooks/forms/<source>, GET /health."""
    from crmsync.web import serve as serve_web
    from crmsync.web.hooks import hook_sources

    project = _project(config)
    try:
        names = list(hook_sources(project))
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    _store(project).dispose()  # migrations up front, with a clear error if the store is unreachable
    for name in names:
        console.print(f"form webhook: POST http://{host}:{port}/hooks/forms/{name}")
    if not names:
        console.print("no sources with `connector: webforms`: only GET /health is served")
    serve_web(project, host=host, port=port, access_log=cli._VERBOSE)
