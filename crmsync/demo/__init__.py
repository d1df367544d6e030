"""The bundled demo project, and the local HubSpot it pushes to (`crmsync demo`).

The demo pushes its golden records to the HubSpot emulator (connectors/hubspot/emulator.py),
started on a free 127.0.0.1 port for the run. Its contacts are saved beside the demo project when
the run ends and loaded when the next run starts, so a second demo finds them there (and pushes
nothing when nothing changed), as a real portal would.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.hubspot.emulator import EmulatorSettings, HubSpotEmulator

__all__ = ["DEMO_DIR", "ENV_ENABLED", "ENV_TOKEN", "ENV_URL", "STATE_FILE", "local_hubspot"]

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).parent
STATE_FILE = ".hubspot-emulator.json"
# the demo project's `destinations:` entry reads these (see crmsync.yaml here)
ENV_ENABLED = "CRMSYNC_DEMO_HUBSPOT"
ENV_URL = "CRMSYNC_DEMO_HUBSPOT_URL"
ENV_TOKEN = "CRMSYNC_DEMO_HUBSPOT_TOKEN"
_GENERATED = ("hs_object_id", "createdate", "lastmodifieddate")


def _restore(emulator: HubSpotEmulator, state: Path) -> int:
    """Load the contacts a previous demo left, under the same ids (the store's cross-references name them)."""
    try:
        saved = json.loads(state.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except ValueError:
        log.warning("%s is not readable; the demo's HubSpot starts empty", state)
        return 0
    data = emulator.data
    with data.lock:
        for name, definition in saved.get("properties", {}).items():
            data.add_unique_property("contacts", name, definition)
        for contact in sorted(saved.get("contacts", []), key=lambda c: int(c["id"])):
            properties = {k: v for k, v in contact.items() if k != "id" and k not in _GENERATED}
            created = data.create("contacts", properties)
            # ids are handed out in order; ids of contacts deleted since (erasures) are skipped over
            while int(created.id) < int(contact["id"]):
                data.purge("contacts", created)
                created = data.create("contacts", properties)
    return len(saved.get("contacts", []))


def _save(emulator: HubSpotEmulator, state: Path) -> None:
    with emulator.data.lock:
        document = {"properties": emulator.data.custom["contacts"], "contacts": emulator.contacts()}
    state.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


@contextmanager
def local_hubspot(project_dir: Path) -> Iterator[HubSpotEmulator]:
    """A HubSpot emulator on a free 127.0.0.1 port, with the demo destination pointed at it for the block."""
    token = secrets.token_urlsafe(24)  # a fresh one per run; never printed, redacted from logs like any secret
    state = project_dir / STATE_FILE
    emulator = HubSpotEmulator(EmulatorSettings(tokens=frozenset({token})))
    _restore(emulator, state)
    emulator.start()
    previous = {name: os.environ.get(name) for name in (ENV_ENABLED, ENV_URL, ENV_TOKEN)}
    os.environ.update({ENV_ENABLED: "true", ENV_URL: emulator.url, ENV_TOKEN: token})
    try:
        yield emulator
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        emulator.stop()
        _save(emulator, state)
