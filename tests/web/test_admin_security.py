"""Security of the admin app: sessions on every route, CSRF on every change, roles, escaping, login throttling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from admin_helpers import PASSWORDS, XSS, csrf_of, log_in, open_seeded
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Mount

from crmsync.web import create_app
from sync.review import list_suggestions
from sync.store import Store, load_golden

# The only ways in without a session; anything else added later is covered by the enumeration below.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/health"), ("POST", "/hooks/forms/{source}")}
SAMPLE = {"suggestion_id": "1", "golden_id": "00000000-0000-0000-0000-000000000000", "letter_id": "1",
          "source": "website"}


@pytest.fixture
def seeded(tmp_path: Path, store_url: str) -> Iterator[tuple[TestClient, Store]]:
    project, store = open_seeded(store_url, tmp_path, xss=True)
    with TestClient(create_app(project)) as client:
        yield client, store
    store.dispose()


@pytest.fixture
def sqlite_seeded(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    project, store = open_seeded(f"sqlite:///{tmp_path / 'crmsync.db'}", tmp_path, xss=True)
    with TestClient(create_app(project)) as client:
        yield client, store
    store.dispose()


def routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, static mount included, included routers walked."""
    found: list[tuple[str, str]] = []

    def walk(items: list[object], prefix: str) -> None:
        for route in items:
            if isinstance(route, APIRoute):
                found.extend((m, prefix + route.path) for m in sorted(route.methods - {"HEAD"}))
            elif isinstance(route, Mount):
                found.append(("GET", prefix + route.path + "/admin.css"))
            elif hasattr(route, "original_router"):  # FastAPI keeps included routers as a branch
                context = getattr(route, "include_context", None)
                walk(list(route.original_router.routes), prefix + (getattr(context, "prefix", "") or ""))
            else:
                raise AssertionError(f"unknown kind of route {route!r}: teach this test to enumerate it")

    walk(list(client.app.routes), "")  # type: ignore[attr-defined]
    return found


def fill(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: SAMPLE[m.group(1)], path)


def test_every_route_needs_a_session_except_login_static_health_and_webhooks(sqlite_seeded: tuple[TestClient, Store]
                                                                             ) -> None:
    client, _ = sqlite_seeded
    served = routes(client)
    assert len(served) >= 20  # the enumeration sees the admin routes, not an empty list
    assert set(served) >= PUBLIC
    for method, path in served:
        if (method, path) in PUBLIC or path.startswith("/static"):
            continue
        for accept in ("text/html", "application/json"):
            answer = client.request(method, fill(path), headers={"accept": accept}, follow_redirects=False)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/login?next="), (method, path)
                assert method == "GET" and accept == "text/html", (method, path)
            else:
                assert answer.status_code == 401, (method, path, answer.status_code)
    assert client.get("/static/admin.css").status_code == 200
    assert client.get("/health").status_code == 200
    page = client.get("/queue", headers={"accept": "text/html"})  # followed: lands on the login form
    assert page.url.path == "/login" and 'name="password"' in page.text


def test_every_state_changing_route_refuses_a_post_without_the_csrf_token(sqlite_seeded: tuple[TestClient, Store]
                                                                         ) -> None:
    client, store = sqlite_seeded
    token = log_in(client, "ada")
    posts = [p for m, p in routes(client) if m == "POST" and (m, p) not in PUBLIC]
    assert {"/suggestions/{suggestion_id}/decide", "/undo", "/bulk", "/golden/{golden_id}/pin",
            "/golden/{golden_id}/erase", "/dead-letters/{letter_id}/retry", "/logout"} <= set(posts)
    before = list_suggestions(store)
    for path in posts:
        for headers in ({}, {"x-csrf-token": "wrong"}):
            answer = client.post(fill(path), data={"action": "accept", "version": "1", "min_score": "0",
                                                   "expected": "3", "field": "company", "value": "X"},
                                 headers=headers, follow_redirects=False)
            assert answer.status_code == 403, (path, headers, answer.status_code)
    assert list_suggestions(store) == before  # nothing changed
    # the same request with the token goes through (so the 403s above were the CSRF check)
    first = before[0]
    done = client.post(f"/suggestions/{first.id}/decide", data={"action": "defer", "version": str(first.version),
                                                               "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert client.post("/login", data={"name": "ada", "password": PASSWORDS["ada"]}).status_code == 403


def test_a_reviewer_cannot_reach_admin_actions_and_a_viewer_cannot_decide(seeded: tuple[TestClient, Store]) -> None:
    client, store = seeded
    with store.session() as session:
        golden_id = next(iter(load_golden(session)))
    token = log_in(client, "rex")
    for path, data in [(f"/golden/{golden_id}/pin", {"field": "company", "value": "X"}),
                       (f"/golden/{golden_id}/unpin", {"field": "company"}),
                       (f"/golden/{golden_id}/unmerge", {}), (f"/golden/{golden_id}/erase", {"confirm": golden_id}),
                       ("/dead-letters/1/retry", {})]:
        answer = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 403, path
    assert client.get(f"/golden/{golden_id}/erase").status_code == 403
    page = client.get(f"/golden/{golden_id}")
    assert page.status_code == 200 and "Admin actions" not in page.text
    with store.session() as session:
        assert golden_id in load_golden(session)  # not erased
    item = list_suggestions(store)[0]
    client.post("/logout", data={"csrf_token": token})
    token = log_in(client, "vic")
    answer = client.post(f"/suggestions/{item.id}/decide", data={"action": "accept", "version": str(item.version),
                                                                "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.post("/bulk", data={"min_score": "0", "expected": "3", "csrf_token": token}).status_code == 403
    assert list_suggestions(store)[0].status == "pending"


def test_a_customer_named_like_a_script_renders_as_text(seeded: tuple[TestClient, Store]) -> None:
    client, store = seeded
    log_in(client, "ada")
    item = next(i for i in list_suggestions(store) if i.score == 0.80)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/queue", f"/suggestions/{item.id}", f"/golden/{item.golden_a}", f"/golden/{item.golden_b}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert XSS not in page.text, path
        assert escaped in page.text, path


def test_ten_wrong_passwords_throttle_the_next_attempt_even_a_right_one(sqlite_seeded: tuple[TestClient, Store]
                                                                       ) -> None:
    client, _ = sqlite_seeded
    token = csrf_of(client.get("/login").text)
    for _ in range(10):
        answer = client.post("/login", data={"name": "ada", "password": "guess", "csrf_token": token})
        assert answer.status_code == 401 and "Wrong user name or password" in answer.text
    answer = client.post("/login", data={"name": "ada", "password": PASSWORDS["ada"], "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0 and "Too many failed logins" in answer.text
    assert client.get("/queue", follow_redirects=False).status_code == 303  # still not logged in


def test_session_cookie_flags_secure_over_tls_and_logout(tmp_path: Path) -> None:
    project, store = open_seeded(f"sqlite:///{tmp_path / 'crmsync.db'}", tmp_path)
    app = create_app(project)
    with TestClient(app) as plain, TestClient(app, base_url="https://testserver") as tls:
        for client, secure in ((plain, False), (tls, True)):
            token = csrf_of(client.get("/login").text)
            answer = client.post("/login", data={"name": "vic", "password": PASSWORDS["vic"], "csrf_token": token},
                                 follow_redirects=False)
            cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("crmsync_session="))
            flags = {part.strip().lower() for part in cookie.split(";")}
            assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
            assert ("secure" in flags) is secure
            assert any(f.startswith("max-age=") for f in flags)
            value = cookie.split(";")[0].split("=", 1)[1]
            with store.engine.connect() as conn:
                stored = {r[0] for r in conn.execute(text("SELECT token_hash FROM admin_sessions"))}
                hashes = [r[0] for r in conn.execute(text("SELECT password_hash FROM admin_users"))]
            assert value not in stored and len(stored) >= 1  # only digests are kept
            assert all(h.startswith("$argon2id$") for h in hashes) and PASSWORDS["vic"] not in str(hashes)
        page = plain.get("/queue")
        plain.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert plain.get("/queue", follow_redirects=False).status_code == 303
    store.dispose()


def test_a_session_expires(tmp_path: Path) -> None:
    project, store = open_seeded(f"sqlite:///{tmp_path / 'crmsync.db'}", tmp_path)
    with TestClient(create_app(project, session_hours=2.0)) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"name": "vic", "password": PASSWORDS["vic"], "csrf_token": token},
                             follow_redirects=False)
        assert "Max-Age=7200" in answer.headers["set-cookie"]
        assert client.get("/queue", follow_redirects=False).status_code == 200
        with store.engine.begin() as conn:  # two hours later, as far as the server can tell
            conn.execute(text("UPDATE admin_sessions SET expires_at = :past"),
                         {"past": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)})
        answer = client.get("/queue", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    store.dispose()


def test_login_redirects_only_to_local_paths(sqlite_seeded: tuple[TestClient, Store]) -> None:
    client, _ = sqlite_seeded
    for target, expected in (("//evil.example/x", "/queue"), ("https://evil.example", "/queue"),
                             ("/dashboard", "/dashboard")):
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"name": "vic", "password": PASSWORDS["vic"], "csrf_token": token,
                                             "next": target}, follow_redirects=False)
        assert answer.headers["location"] == expected


def test_the_throttle_forgets_quiet_keys_and_counts_per_name_and_address() -> None:
    from crmsync.web.auth import LoginThrottle

    throttle = LoginThrottle(limit=3, window_seconds=60)
    throttle.failed(["name:a", "addr:1"])
    throttle.failed(["name:a", "addr:2"])
    assert throttle.wait(["name:a", "addr:3"]) == 0
    throttle.failed(["name:a", "addr:3"])
    assert throttle.wait(["name:a", "addr:9"]) > 0  # the name is throttled from any address
    assert throttle.wait(["name:b", "addr:9"]) == 0
    throttle.succeeded("name:a")
    assert throttle.wait(["name:a", "addr:9"]) == 0
