"""A long-lived local Prefect API for command-line runs: started by the first `crmsync run` that needs
one, found again by the next through a state file under PREFECT_HOME, restarted when it has died.

`python -m flows.local_api --port N --state FILE --idle-minutes M` is the server process itself: Prefect's
API (no UI, the background services of Prefect's own temporary server) under uvicorn. It stops after
M minutes without a request (0: never), when its state file stops naming it (`crmsync prefect stop`,
or a newer server took over), or on SIGTERM. Its database is Prefect's usual one under PREFECT_HOME,
so `prefect flow-run ls` lists the runs.

Importing this module does not import Prefect.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["LocalApi", "STATE_FILE", "ensure_local_api", "healthy", "read_state", "stop_local_api"]

STATE_FILE = "crmsync-local-api.json"
LOG_FILE = "crmsync-local-api.log"
DEFAULT_IDLE_MINUTES = 30.0
START_TIMEOUT = 120.0
_SERVER_MARK = "flows.local_api"  # in the server's command line: a reused pid is not mistaken for it


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def idle_minutes() -> float:
    """CRMSYNC_PREFECT_IDLE_MINUTES, else 30; 0 keeps the server until it is stopped."""
    value = os.environ.get("CRMSYNC_PREFECT_IDLE_MINUTES")
    try:
        return max(0.0, float(value)) if value else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise ValueError(f"CRMSYNC_PREFECT_IDLE_MINUTES={value!r} is not a number of minutes") from None


@dataclass
class LocalApi:
    """Where the local API listens, which process serves it, and whether this command started it."""

    api_url: str
    pid: int
    port: int
    started_at: str
    idle_minutes: float
    prefect_version: str | None = None  # a server from before an upgrade of Prefect is replaced
    started_now: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def state(self) -> dict[str, Any]:
        return {"api_url": self.api_url, "pid": self.pid, "port": self.port, "started_at": self.started_at,
                "idle_minutes": self.idle_minutes, "prefect_version": self.prefect_version}

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until /health answers; RuntimeError when the server dies or takes too long."""
        deadline = time.monotonic() + timeout
        while not healthy(self.api_url):
            code = self.process.poll() if self.process is not None else None
            if code is not None or (self.process is None and not _is_server(self.pid)):
                how = f" with code {code}" if code is not None else ""
                raise RuntimeError(f"the local Prefect API exited{how} while starting; see "
                                   f"{prefect_home() / LOG_FILE}, or set PREFECT_API_URL to a running server "
                                   "(`prefect server start`)")
            if time.monotonic() > deadline:
                _terminate(self.pid)
                raise RuntimeError(f"the local Prefect API did not answer within {timeout:.0f} s; see "
                                   f"{prefect_home() / LOG_FILE}, or set PREFECT_API_URL to a running server")
            time.sleep(0.05)


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the API answers GET /health with 200 (stdlib only: no Prefect, no httpx)."""
    rest = api_url.split("://", 1)[-1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        connection.request("GET", f"/{path}/health".replace("//", "/"))
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _is_server(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's; the command line below tells more where /proc exists
    try:
        return _SERVER_MARK in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True  # no /proc (macOS): trust the pid and the health check


def _terminate(pid: int, timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _is_server(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_server(pid):
            os.kill(pid, signal.SIGKILL)


def read_state(home: Path | None = None) -> LocalApi | None:
    """The local API the state file names, if the file is there and readable."""
    path = (home or prefect_home()) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LocalApi(api_url=str(data["api_url"]), pid=int(data["pid"]), port=int(data["port"]),
                        started_at=str(data["started_at"]), idle_minutes=float(data["idle_minutes"]),
                        prefect_version=data.get("prefect_version"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One command at a time decides whether to start a server (so two runs never start two)."""
    home.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; two simultaneous first runs may start two servers
        yield
        return
    with open(home / f"{STATE_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(home: Path, idle: float) -> LocalApi:
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "0",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1", "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    with open(home / LOG_FILE, "ab") as log:
        process = subprocess.Popen(  # its own session: it outlives this command and ignores its Ctrl-C
            [sys.executable, "-m", _SERVER_MARK, "--port", str(port), "--state", str(home / STATE_FILE),
             "--idle-minutes", f"{idle:g}"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    api = LocalApi(api_url=f"http://127.0.0.1:{port}/api", pid=process.pid, port=port,
                   started_at=datetime.now(UTC).isoformat(timespec="seconds"), idle_minutes=idle,
                   prefect_version=installed_prefect(), started_now=True, process=process)
    tmp = home / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(api.state()), encoding="utf-8")
    tmp.replace(home / STATE_FILE)
    return api


def installed_prefect() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefect")
    except PackageNotFoundError:
        return None


def _usable(api: LocalApi | None, timeout: float) -> bool:
    return (api is not None and api.prefect_version == installed_prefect() and _is_server(api.pid)
            and healthy(api.api_url, timeout=timeout))


def ensure_local_api(home: Path | None = None) -> LocalApi:
    """The running local API, else a new one (started, not yet ready: call `wait_ready()` when needed).

    Sets PREFECT_API_URL for this process, so Prefect, imported later, talks to it.
    """
    home = home or prefect_home()
    current = read_state(home)
    if not _usable(current, timeout=1.0):
        with _locked(home):
            current = read_state(home)
            if current is not None and current.prefect_version != installed_prefect():  # Prefect was upgraded
                if _is_server(current.pid):
                    _terminate(current.pid)
                current = None
            if current is not None and _is_server(current.pid):
                try:  # alive: maybe still starting (another command started it a moment ago)
                    current.wait_ready(timeout=START_TIMEOUT)
                except RuntimeError:
                    current = None
            else:
                current = None
            if current is None:
                current = _start(home, idle_minutes())
    os.environ["PREFECT_API_URL"] = current.api_url
    return current


def stop_local_api(home: Path | None = None) -> LocalApi | None:
    """Stop the local API the state file names; returns it (None when none was running)."""
    home = home or prefect_home()
    with _locked(home):
        current = read_state(home)
        (home / STATE_FILE).unlink(missing_ok=True)
        if current is None or not _is_server(current.pid):
            return None
        _terminate(current.pid)
        return current


def _serve(port: int, state: Path, idle: float) -> None:
    """The server process: Prefect's API app behind a request clock, and a watchdog that stops it."""
    import uvicorn
    from prefect.server.api.server import create_app

    app = create_app(ephemeral=True, final=True)
    last_request = [time.monotonic()]

    async def clocked(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            last_request[0] = time.monotonic()
        await app(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(clocked, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="on", timeout_graceful_shutdown=5))

    def watchdog() -> None:
        while not server.started and not server.should_exit:  # idle time counts from when it answers
            time.sleep(0.1)
        last_request[0] = time.monotonic()
        while not server.should_exit:
            time.sleep(min(5.0, idle * 20) if idle else 5.0)
            current = read_state(state.parent)
            if current is None or current.pid != os.getpid():
                print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} state file no longer names this server; stopping",
                      flush=True)
                server.should_exit = True
            elif idle and time.monotonic() - last_request[0] > idle * 60:
                print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} idle for {idle:g} min; stopping", flush=True)
                state.unlink(missing_ok=True)
                server.should_exit = True

    threading.Thread(target=watchdog, name="crmsync-local-api-watchdog", daemon=True).start()
    server.run()


def main() -> None:
    parser = argparse.ArgumentParser(description="The local Prefect API that `crmsync run` starts and reuses.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--idle-minutes", type=float, default=DEFAULT_IDLE_MINUTES)
    args = parser.parse_args()
    _serve(args.port, args.state, args.idle_minutes)


if __name__ == "__main__":
    main()
