"""Helpers for the web tests: project files, signed bodies, a `crmsync serve` subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from connectors.webforms import sign_standard, sign_typeform
from mappings.templates import TEMPLATES_DIR

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-form-key"
TOKEN = "tilda-url-token"

PROJECT_YAML = """\
version: 1
name: forms-test
store:
  url: {url}
sources:
  - name: website
    connector: webforms
    config:
      source: website
      database_url: {url}
      secret: ${{FORMS_SECRET}}
      max_body_bytes: 4096
    streams:
      submissions: {templates}/webforms_customers.yaml
      interactions: {templates}/webforms_interactions.yaml
  - name: tilda
    connector: webforms
    config:
      source: tilda
      database_url: {url}
      secret: ${{TILDA_TOKEN}}
      signature: token
    streams:
      submissions: {templates}/webforms_customers.yaml
"""


def write_project(folder: Path, url: str) -> Path:
    """A crmsync.yaml with two webforms sources on the store at `url`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crmsync.yaml"
    path.write_text(PROJECT_YAML.format(url=url, templates=TEMPLATES_DIR), encoding="utf-8")
    return path


def signed_json(payload: object, *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """A JSON body and its Typeform-Signature headers."""
    body = json.dumps(payload).encode()
    return body, {"content-type": "application/json", "typeform-signature": sign_typeform(secret, body)}


def standard_headers(body: bytes, message_id: str, *, timestamp: int | None = None,
                     secret: str = SECRET) -> dict[str, str]:
    """Standard Webhooks headers for a JSON body."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"content-type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign_standard(secret, message_id, ts, body)}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`crmsync serve` running as a subprocess on 127.0.0.1."""

    def __init__(self, project_file: Path, url: str, env: dict[str, str]) -> None:
        self.project_file = project_file
        self.database_url = url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "serve", "-c", str(project_file), "--port", str(self.port)],
            cwd=project_file.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise RuntimeError(f"crmsync serve exited with {self.process.returncode}:\n{out}\n{err}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("crmsync serve did not answer /health within 60 s")

    def stop(self) -> None:
        """Interrupt the server (graceful shutdown) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
