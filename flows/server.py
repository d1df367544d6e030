"""The Prefect API for command-line runs (`crmsync run`, `demo`, `reconcile`): the configured one (PREFECT_API_URL
or the active profile), else the long-lived local API of `flows.local_api`, found or started at CLI start-up,
*before* Prefect and the stages are imported, so that a start overlaps ours.

Prefect itself would start a temporary server lazily, on the first flow call, and wait for it there, on
every run; that wait was most of the demo's orchestration time. This module does not import Prefect.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flows.local_api import LocalApi, ensure_local_api

__all__ = ["TemporaryServer", "configured_api_url", "local_api", "one_off_settings", "start_for_command",
           "start_temporary_server"]

PREFECT_VERBS = frozenset({"run", "demo", "reconcile"})
_started: TemporaryServer | None = None
_local: LocalApi | None = None


def _profile_api_url() -> str | None:
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active")
    settings = data.get("profiles", {}).get(active, {}) if active else {}
    value = settings.get("PREFECT_API_URL")
    return str(value) if value else None


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile (read without importing Prefect),
    or from Prefect's settings when Prefect is already loaded (a test harness, `temporary_settings`)."""
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            return str(PREFECT_API_URL.value())
    return os.environ.get("PREFECT_API_URL") or _profile_api_url()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TemporaryServer:
    """A Prefect API server in a child process (no UI, no background services), stopped at exit."""

    process: subprocess.Popen[bytes]
    api_url: str

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the server answers /health; raises RuntimeError when it dies or takes too long."""
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the temporary Prefect server exited with code {self.process.returncode}; "
                                   "set PREFECT_API_URL to a running server (`prefect server start`)")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:.0f} s; "
                                   "set PREFECT_API_URL to a running server (`prefect server start`)")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_temporary_server() -> TemporaryServer | None:
    """Start a temporary server unless an API is configured; sets PREFECT_API_URL for this process.

    Its database is Prefect's usual one under PREFECT_HOME, so `prefect flow-run ls` lists the runs later.
    """
    global _started
    if _started is not None and _started.process.poll() is None:
        return _started
    if configured_api_url():
        return None
    from importlib.util import find_spec

    spec = find_spec("prefect")
    assert spec is not None and spec.origin is not None, "prefect is a dependency of crmsync"
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "error",
         "--lifespan", "on"], env=env, stdin=subprocess.DEVNULL)
    server = TemporaryServer(process, f"http://127.0.0.1:{port}/api")
    atexit.register(server.stop)
    os.environ["PREFECT_API_URL"] = server.api_url  # read by Prefect when it is imported
    _started = server
    return server


def local_api() -> LocalApi | None:
    """The local API this command uses (found or started once per process); None when one is configured."""
    global _local
    if _local is None:
        if configured_api_url():
            return None
        _local = ensure_local_api()
        # Our own server, from this very Prefect, with CSRF protection off: the client need not ask
        # for its version or a CSRF token (3 of the 17 requests of a demo run).
        os.environ.setdefault("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "false")
        os.environ.setdefault("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "false")
    return _local


def start_for_command(argv: list[str]) -> LocalApi | None:
    """At CLI start-up, before the heavy imports: find or start the local API when the verb runs flows."""
    program = Path(argv[0]) if argv else Path()
    if program.name != "crmsync" and (program.name, program.parent.name) != ("__main__.py", "crmsync"):
        return None  # imported by something else (pytest, a script): its arguments are not our verbs
    words = [a for a in argv[1:] if not a.startswith("-")]
    if not words or words[0] not in PREFECT_VERBS or {"--help", "-h"} & set(argv):
        return None
    try:
        return local_api()
    except (OSError, ValueError):
        return None  # the verb asks again, and reports the error in its own words


@contextlib.contextmanager
def one_off_settings() -> Iterator[None]:
    """Prefect settings for a one-off run from the command line: no flow-run heartbeats.

    Heartbeats let a long-lived server notice crashed runs of workers and `serve` (which keep them);
    a command-line run is watched by the person who started it, its sync_runs rows are reaped by the
    next run, and stopping the heartbeat thread costs up to a second per flow.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
