"""`crmsync serve` as a real uvicorn server on 127.0.0.1: concurrent posts, and nothing lost on kill -9."""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from web_helpers import ROOT, SECRET, TOKEN, LiveServer, signed_json, write_project

from sync.store import count_submissions, open_store, read_submissions

pytestmark = pytest.mark.slow


def inbox_count(url: str, source: str = "website") -> int:
    store = open_store(url)
    try:
        with store.session() as session:
            return count_submissions(session, source)
    finally:
        store.dispose()


def post_many(base: str, prefix: str, count: int, workers: int = 8) -> list[int]:
    def post(i: int) -> int:
        body, headers = signed_json({"submission_id": f"{prefix}-{i}", "name": f"Person {i}",
                                     "email": f"p{i}@example.test"})
        return httpx.post(f"{base}/hooks/forms/website", content=body, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(post, range(count)))


def test_health_and_error_codes_over_a_real_socket(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.base}/health").json()["status"] == "ok"
    body, headers = signed_json({"submission_id": "live-1", "name": "Ann"})
    url = f"{live_server.base}/hooks/forms/website"
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert httpx.post(url, content=body, headers=headers).json()["status"] == "duplicate"
    assert httpx.post(url, content=body, headers={**headers, "typeform-signature": "sha256=x"}).status_code == 401
    assert httpx.post(url, content=b"{" * 5000, headers=headers).status_code == 413
    bad, bad_headers = signed_json([1])
    assert httpx.post(url, content=bad, headers=bad_headers).status_code == 400
    tilda = f"{live_server.base}/hooks/forms/tilda?token={TOKEN}"
    assert httpx.post(tilda, data={"Name": "Bo", "tranid": "9:1"}).status_code == 200


def test_concurrent_posts_are_all_stored(live_server: LiveServer) -> None:
    before = inbox_count(live_server.database_url)
    codes = post_many(live_server.base, "burst", 300)
    assert codes == [200] * 300
    assert inbox_count(live_server.database_url) == before + 300


def test_every_answered_submission_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crmsync.db'}"
    project_file = write_project(tmp_path, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(FORMS_SECRET=SECRET, TILDA_TOKEN=TOKEN, PREFECT_HOME=str(tmp_path / "prefect"),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    server = LiveServer(project_file, url, env)
    try:
        codes = post_many(server.base, "kill", 200)
        server.process.send_signal(signal.SIGKILL)  # no graceful shutdown, no chance to flush anything
        server.process.wait(timeout=10)
    finally:
        server.stop()
    assert codes.count(200) == 200
    assert inbox_count(url) == 200
    store = open_store(url)
    try:
        with store.session() as session:
            first = read_submissions(session, source="website", after_id=0, limit=1)[0]
    finally:
        store.dispose()
    assert json.loads(first.body)["submission_id"].startswith("kill-")
