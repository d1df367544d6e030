"""`crmsync serve`: the web app (form webhooks, admin) and, with schedules, the Prefect runner.

With schedules in crmsync.yaml, the Prefect runner owns the main thread (it handles signals, cancels
its flow runs and pauses the schedules on shutdown) and uvicorn serves the web app from a daemon
thread (uvicorn installs no signal handlers off the main thread). Flow runs execute in child
processes started by the runner, so a crashing run never takes the web app down. The runner talks
to the Prefect API at PREFECT_API_URL; without one, `serve` starts a Prefect server (with its UI)
on --prefect-port and stops it on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from crmsync import cli
from crmsync.cli import ConfigOption, _fail, _project, _store, app, console
from crmsync.config import DEFAULT_PROJECT_FILE, ConfigError, Project

PREFECT_START_SECONDS = 120.0


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile."""
    from prefect.settings import PREFECT_API_URL

    return os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value() or None


def _healthy(api_url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def prefect_api(port: int) -> Iterator[str]:
    """The Prefect API to serve against: the configured one, one already on `port`, or a new server there."""
    url = configured_api_url()
    process = None
    if url is None:
        url = f"http://127.0.0.1:{port}/api"
        if not _healthy(url):
            console.print(f"starting a Prefect server on http://127.0.0.1:{port} (UI and API; set "
                          "PREFECT_API_URL to use another)")
            env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
            process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                        "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
            deadline = time.monotonic() + PREFECT_START_SECONDS
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    detail = (process.stderr.read() or b"").decode(errors="replace")[-800:] if process.stderr else ""
                    raise _fail(f"the Prefect server on port {port} did not start; use --prefect-port or set "
                                f"PREFECT_API_URL to a running server. {detail}")
                time.sleep(0.5)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url  # flow-run processes the runner starts inherit it
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class WebThread:
    """The web app under uvicorn in a daemon thread; `stop()` asks it to finish its requests and exit."""

    def __init__(self, project: Project, host: str, port: int) -> None:
        import uvicorn

        from crmsync.web import create_app

        config = uvicorn.Config(create_app(project), host=host, port=port, access_log=cli._VERBOSE,
                                log_config=None, lifespan="on", timeout_graceful_shutdown=10)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="crmsync-web", daemon=True)

    def start(self, timeout: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise _fail("the web app did not start (is the port in use? try --port)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def _sigterm_as_interrupt() -> None:
    """SIGTERM (systemd, docker stop) shuts down like Ctrl-C: runs cancelled, servers stopped."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


@app.command()
def serve(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    schedules: Annotated[bool, typer.Option(help="Run the schedules of crmsync.yaml with Prefect.")] = True,
    prefect_port: Annotated[int, typer.Option(
        help="Port of the Prefect server started when PREFECT_API_URL is not set.")] = 4200,
) -> None:
    """Run the web app (form webhooks at POST /hooks/forms/<source>, GET /health) and the scheduled flows."""
    from crmsync.web.hooks import hook_sources
    from flows.deployments import planned_deployments

    project = _project(config)
    try:
        names = list(hook_sources(project))
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    _store(project).dispose()  # migrations up front, with a clear error if the store is unreachable
    for name in names:
        console.print(f"form webhook: POST http://{host}:{port}/hooks/forms/{name}")
    if not names:
        console.print("no sources with `connector: webforms`: no form webhooks")
    planned = planned_deployments(project, config) if schedules else []
    if not planned:
        from crmsync.web import serve as serve_web

        console.print("no schedules in the project file (orchestration.pipeline.schedule, sources[].schedule, "
                      "...): serving the web app only")
        serve_web(project, host=host, port=port, access_log=cli._VERBOSE)
        return
    _serve_with_schedules(project, planned, host, port, prefect_port)


def _serve_with_schedules(project: Project, planned: list, host: str, port: int, prefect_port: int) -> None:
    from prefect import serve as prefect_serve

    from flows.deployments import runner_deployments

    _sigterm_as_interrupt()
    with prefect_api(prefect_port) as api_url:
        deployments = runner_deployments(planned)
        web = WebThread(project, host, port)
        web.start()
        console.print(f"web app on http://{host}:{port} · Prefect API {api_url}")
        for plan in planned:
            console.print(f"schedule: {plan.describe()}", highlight=False)
        try:
            prefect_serve(*deployments, print_starting_message=False)
        except KeyboardInterrupt:
            console.print("stopping: schedules paused, web app closing")
        finally:
            web.stop()


prefect_app = typer.Typer(help="The local Prefect API that `crmsync run` starts and reuses.", no_args_is_help=True)
app.add_typer(prefect_app, name="prefect")


@prefect_app.command("status")
def prefect_status() -> None:
    """Which Prefect API command-line runs use, and whether it answers."""
    from flows.local_api import STATE_FILE, healthy, prefect_home, read_state
    from flows.server import configured_api_url

    configured = configured_api_url()
    if configured:
        state = "answering" if healthy(configured) else "not answering"
        console.print(f"PREFECT_API_URL={configured} ({state}); the local API is not used", highlight=False)
        return
    api = read_state()
    if api is None or not healthy(api.api_url):
        console.print(f"no local Prefect API running (state file {prefect_home() / STATE_FILE}); "
                      "`crmsync run` starts one", highlight=False)
        raise typer.Exit(1)
    idle = f"stops after {api.idle_minutes:g} idle minutes" if api.idle_minutes else "runs until stopped"
    console.print(f"local Prefect API {api.api_url} · pid {api.pid} · started {api.started_at} · {idle}",
                  highlight=False)


@prefect_app.command("start")
def prefect_start(
    idle_minutes: Annotated[float | None, typer.Option(
        help="Stop after this many minutes without a request (0: never; default 30 or "
             "CRMSYNC_PREFECT_IDLE_MINUTES).")] = None,
) -> None:
    """Start the local Prefect API now (runs start it on first use anyway)."""
    from flows.local_api import ensure_local_api
    from flows.server import configured_api_url

    if configured_api_url():
        raise _fail(f"PREFECT_API_URL is set ({configured_api_url()}): runs use that API, not a local one")
    if idle_minutes is not None:
        os.environ["CRMSYNC_PREFECT_IDLE_MINUTES"] = f"{idle_minutes:g}"
    try:
        api = ensure_local_api()
        api.wait_ready()
    except (OSError, ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from None
    verb = "started" if api.started_now else "already running:"
    console.print(f"{verb} local Prefect API {api.api_url} (pid {api.pid})", highlight=False)


@prefect_app.command("stop")
def prefect_stop() -> None:
    """Stop the local Prefect API (its runs stay in PREFECT_HOME's database)."""
    from flows.local_api import stop_local_api

    api = stop_local_api()
    console.print(f"stopped the local Prefect API {api.api_url} (pid {api.pid})" if api
                  else "no local Prefect API was running", highlight=False)
