"""The admin app in Debian's Chromium (Playwright, system browser): log in, review with the keyboard, see the merge.

Screenshots of every page land in test-artifacts/admin/ (git-ignored) for a person to look at.
Under CI=true a missing Chromium fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_helpers import PASSWORDS, XSS, AdminServer, open_seeded

from sync.store import Store, list_suggestion_rows

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CRMSYNC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "admin"


def _chromium() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` (.ci/run does)"
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(message + "; on CI (CI=true) browser tests must not be skipped", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[tuple[AdminServer, Store]]:
    project, store = open_seeded(f"sqlite:///{tmp_path / 'crmsync.db'}", tmp_path, xss=True)
    server = AdminServer(project).start()
    try:
        yield server, store
    finally:
        server.stop()
        store.dispose()


def shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def log_in(page: object, base: str, name: str) -> None:
    page.goto(base + "/queue")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/login"))  # type: ignore[attr-defined]
    page.get_by_label("User name").fill(name)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORDS[name])  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/queue"))  # type: ignore[attr-defined]


def test_log_in_accept_with_the_keyboard_and_see_the_merge(browser: object, app_server: tuple[AdminServer, Store]
                                                            ) -> None:
    server, store = app_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/login")
    shot(page, "01-login")
    log_in(page, server.url, "rex")
    assert page.get_by_role("heading", name=re.compile("Review queue")).is_visible()
    assert page.locator("table.queue tbody tr").count() == 3
    # the name is shown as text, never run: no dialog opened and the text is on the page
    assert page.get_by_text(XSS, exact=False).first.is_visible()
    shot(page, "02-queue")

    # the most uncertain suggestion first: Ann Lee vs Anne Lee at 0.55
    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/suggestions/\d+"))
    assert page.locator("tr.differs").count() >= 2
    assert page.get_by_text("same surname; e-mail differs").is_visible()
    weights = page.locator("table.weights").inner_text()
    assert "family_name" in weights and "+6.2" in weights and "-3.1" in weights
    shot(page, "03-suggestion")
    sid = int(re.search(r"/suggestions/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    page.keyboard.press("a")  # accept with the keyboard
    page.wait_for_url(lambda url: f"/suggestions/{sid}" not in url)
    flash = page.locator(".flash")
    assert f"Suggestion #{sid} accepted" in flash.inner_text()
    shot(page, "04-after-accept")
    with store.session() as session:
        assert {r.id: r.status for r in list_suggestion_rows(session, None)}[sid] == "accepted"

    flash.get_by_role("link", name="Open the golden record").click()
    page.wait_for_url(re.compile(r"/golden/"))
    values = page.locator("table.values").inner_text()
    assert "ann@x.com" in values and "ann.lee@y.com" in values and "anne@z.com" in values  # merged e-mails
    history = page.locator("table.history").inner_text()
    assert "golden.merge" in history and "user:rex" in history
    assert "sheet/contacts/3" in page.locator("section[aria-labelledby=sources] table").inner_text()  # Anne linked
    assert page.get_by_text("Admin actions").count() == 0  # a reviewer sees no admin actions
    shot(page, "05-golden")

    page.get_by_role("link", name="Sync dashboard").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    assert page.locator("svg.chart").count() == 3
    assert page.get_by_text("INVALID_EMAIL").is_visible()
    shot(page, "06-dashboard")
    assert errors == []
    context.close()


def test_review_works_with_javascript_off_and_on_a_tablet(browser: object, app_server: tuple[AdminServer, Store]
                                                           ) -> None:
    server, store = app_server
    context = browser.new_context(java_script_enabled=False, viewport={"width": 768, "height": 1024},  # type: ignore[attr-defined]
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, server.url, "ada")
    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/suggestions/\d+"))
    shot(page, "07-suggestion-tablet")
    sid = int(re.search(r"/suggestions/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    page.keyboard.press("r")  # no JavaScript: the shortcut does nothing
    assert f"/suggestions/{sid}" in page.url
    page.get_by_role("button", name=re.compile("Defer")).click()
    page.wait_for_load_state()
    assert f"Suggestion #{sid} deferred" in page.locator(".flash").inner_text()
    with store.session() as session:
        assert {r.id: r.status for r in list_suggestion_rows(session, None)}[sid] == "deferred"
    page.goto(server.url + "/dashboard")
    shot(page, "08-dashboard-tablet")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the dashboard scrolls sideways on a tablet ({width}px)"
    context.close()


def test_keyboard_focus_order_starts_with_skip_link_and_navigation(browser: object,
                                                                    app_server: tuple[AdminServer, Store]) -> None:
    server, _ = app_server
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, server.url, "vic")
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert order[0] == "Skip to content"
    assert order[1:4] == ["crmsync", "Review queue", "Sync dashboard"]
    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    assert page.locator("form.decide").count() == 0  # a viewer gets no decision buttons
    context.close()


def test_undo_the_last_accept_with_the_keyboard(browser: object, app_server: tuple[AdminServer, Store]) -> None:
    server, store = app_server
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, server.url, "rex")
    page.locator("table.queue tbody tr").first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/suggestions/\d+"))
    sid = int(re.search(r"/suggestions/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    page.keyboard.press("a")
    page.wait_for_url(lambda url: f"/suggestions/{sid}" not in url)
    assert page.get_by_role("button", name=re.compile("Undo")).is_visible()
    page.keyboard.press("u")
    page.wait_for_url(re.compile(r"/queue"))
    assert page.locator(".flash").inner_text().startswith("Undone: merge #")
    shot(page, "09-after-undo")
    with store.session() as session:  # an undone accept counts as rejected by whoever undid it
        assert {r.id: r.status for r in list_suggestion_rows(session, None)}[sid] == "rejected"
    context.close()
