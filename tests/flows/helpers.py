"""Helpers for the flow tests: a webhook receiver (real HTTP on 127.0.0.1) and small projects."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CUSTOMERS = """
fields:
  - {from: Name, to: name}
  - {from: Email, to: emails}
  - {from: Phone, to: phones}
"""
ROWS = "Name,Email,Phone\nIvan Ivanov,ivan@mail.ru,+7 912 345 67 89\nOlga Petrova,olga@x.ru,+7 926 456 78 90\n" \
       "Ivan Ivanov,IVAN@mail.ru,\nAnna Smirnova,anna@x.ru,+7 916 123 45 67\n"


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.raw.append(body)
                received.paths.append(self.path)
                received.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_project(folder: Path, orchestration: str = "", *, store_url: str | None = None,
                  sources: tuple[str, ...] = ("web",)) -> Path:
    """A project with small CSV sources; `orchestration` is YAML under `orchestration:`."""
    (folder / "customers.yaml").write_text(CUSTOMERS, encoding="utf-8")
    lines = ["name: flows-test"]
    if store_url:
        lines.append(f"store: {{url: '{store_url}'}}")
    lines += ["defaults: {phone_region: RU}", "sources:"]
    for name in sources:
        (folder / f"{name}.csv").write_text(ROWS, encoding="utf-8")
        lines += [f"  - name: {name}", "    connector: files",
                  f"    config: {{files: [{{path: {name}.csv, name: {name}}}]}}",
                  f"    streams: {{{name}: customers.yaml}}"]
    lines.append("export: {xlsx: null}")
    if orchestration:
        lines += ["orchestration:", *("  " + line for line in orchestration.strip("\n").splitlines())]
    path = folder / "crmsync.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_demo(folder: Path, orchestration: str) -> Path:
    """The bundled demo project (the one `crmsync demo` runs) with an `orchestration:` section added."""
    from crmsync.samples import SAMPLES_DIR

    demo = Path(__file__).resolve().parents[2] / "crmsync" / "demo"
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES_DIR.iterdir():
        if sample.suffix in {".xlsx", ".csv", ".json"} and sample.name != "truth.json":
            shutil.copyfile(sample, folder / "data" / sample.name)
    shutil.copytree(demo / "mappings", folder / "mappings", dirs_exist_ok=True)
    text = (demo / "crmsync.yaml").read_text(encoding="utf-8")
    text += "\norchestration:\n" + "".join(f"  {line}\n" for line in orchestration.strip("\n").splitlines())
    path = folder / "crmsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class SmtpInbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it is handed."""

    def __init__(self) -> None:
        import socket

        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, list[str], bytes]] = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
                inbox.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 OK"

        with socket.socket() as sock:  # aiosmtpd needs the port up front
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "ops@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=crmsync@example.com&to={to}"

    def close(self) -> None:
        self.controller.stop()
