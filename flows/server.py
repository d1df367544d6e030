"""The Prefect API for command-line runs (`crmsync run`, `demo`, `reconcile`, `ingest`, `match`, `push`):
the configured one (PREFECT_API_URL or the active profile), else the long-lived local API of
`flows.local_api`, found or started at CLI start-up, *before* Prefect and the stages are imported, so
that a start overlaps ours (`push --plan` runs no flow and starts nothing).

Prefect itself would start a temporary server lazily, on the first flow call, and wait for it there, on
every run; that wait was most of the demo's orchestration time. This module does not import Prefect.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from flows.local_api import LocalApi, ensure_local_api

__all__ = ["configured_api_url", "local_api", "one_off_settings", "start_for_command"]

PREFECT_VERBS = frozenset({"run", "demo", "reconcile", "ingest", "match", "push"})
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
    if words[0] == "push" and "--plan" in argv:
        return None  # a plan runs no flow
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
