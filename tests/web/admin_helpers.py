"""Helpers for the admin web app tests: a seeded project, users, logging in, a live server for the browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from crmsync.config import Project, load_project
from crmsync.web import create_app
from crmsync.web.auth import hash_password
from mappings import content_hash
from sync.store import (
    InteractionIndexIn,
    SourceRecordIn,
    Store,
    finish_run,
    open_store,
    source_record_pks,
    start_run,
    upsert_interactions,
)
from sync.store import dead_letter as add_dead_letter
from sync.store.users import add_user
from tests.review.conftest import PEOPLE, T0, ScriptedMatcher, customer, golden_of, ingest, run_match

PASSWORDS = {"ada": "admin-password-1", "rex": "reviewer-password-1", "vic": "viewer-password-1"}
ROLES = {"ada": "admin", "rex": "reviewer", "vic": "viewer"}
XSS = "<script>alert(1)</script>"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_project(folder: Path, url: str) -> Path:
    """A project file with only a store and the match thresholds (0.7 review, 0.95 auto-merge)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crmsync.yaml"
    path.write_text(f"version: 1\nname: admin-test\nstore:\n  url: '{url}'\nmatch:\n  review: 0.7\n"
                    "  auto_merge: 0.95\n", encoding="utf-8")
    return path


def call_record(rid: str, phone: str) -> SourceRecordIn:
    """A phone call from `phone`, as an interaction source record."""
    canonical = {"ref": {"source": "pbx", "stream": "calls", "source_record_id": rid}, "phones": [phone]}
    return SourceRecordIn(source="pbx", stream="calls", source_record_id=rid, entity="interaction",
                          raw={"from": phone}, canonical=canonical, content_hash=content_hash(canonical),
                          source_updated_at=T0)


def seed(store: Store, *, xss: bool = False) -> None:
    """Six customers, two pending suggestions (0.55 Ann/Anne, 0.90 Bob/Rob), a call, runs, a dead letter, users."""
    people = list(PEOPLE)
    if xss:
        people.append(customer("web", "7", "x1", name=XSS, emails=["x1@x.com"], company=XSS))
        people.append(customer("crm", "8", "x2", name=XSS + " Jr", emails=["x2@x.com"]))
    ingest(store, people)
    ingest(store, [call_record("c1", "+14155550101")], at=T0 + timedelta(days=1))
    with store.session() as session:
        pk = source_record_pks(session, [("pbx", "calls", "c1")])[("pbx", "calls", "c1")]
        upsert_interactions(session, [InteractionIndexIn(pk, "call", T0 + timedelta(days=1), "+14155550101", None)])
    pairs = {("ann", "anne"): 0.55, ("bob", "rob"): 0.90}
    if xss:
        pairs[("x1", "x2")] = 0.80
    started = datetime.now(UTC) - timedelta(minutes=5)
    with store.session() as session:
        run_id = start_run(session, "match", None, now=started)
    report = run_match(store, ScriptedMatcher(pairs), run_id=run_id)
    with store.session() as session:
        finish_run(session, run_id, status="completed", now=started + timedelta(seconds=2.5),
                   counts={"merged_records": report.merged_records, "merged_clusters": report.merged_clusters,
                           "suggestions_new": report.suggestions_new, "golden_total": report.golden_total})
        ingest_id = start_run(session, "ingest", "crm", now=started - timedelta(minutes=1))
        finish_run(session, ingest_id, status="failed", error="crm: HTTP 401 from the API (check CRM_TOKEN)",
                   counts={"contacts": {"read": 3, "upserted": 3}}, now=started - timedelta(seconds=30))
        add_dead_letter(session, "hubspot", golden_of(store, "crm", "6"), record_hash="h1", payload={"email": "cy@x.com"},
                        error="400 INVALID_EMAIL: Email address cy@x is invalid", now=started)
        for name, role in ROLES.items():
            add_user(session, name, role, hash_password(PASSWORDS[name]), now=started)


def open_seeded(url: str, folder: Path, *, xss: bool = False) -> tuple[Project, Store]:
    """The project file and its seeded store."""
    project = load_project(write_project(folder, url))
    store = open_store(url)
    seed(store, xss=xss)
    return project, store


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client: httpx.Client, name: str, password: str | None = None) -> str:
    """Log in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    answer = client.post("/login", data={"name": name, "password": password or PASSWORDS[name],
                                         "csrf_token": csrf_of(page.text), "next": "/queue"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/queue").text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AdminServer:
    """The real app under uvicorn on 127.0.0.1, in a thread of the test process."""

    project: Project
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        config = uvicorn.Config(create_app(self.project), host="127.0.0.1", port=self.port, log_config=None,
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AdminServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the admin app did not start within 30 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
