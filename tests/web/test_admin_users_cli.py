"""`crmsync user add/passwd/list`: argon2 hashes in the store, clear errors, no password on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from crmsync.web.auth import verify_password
from sync.store import open_store
from sync.store.users import get_user

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    path = tmp_path / "crmsync.yaml"
    path.write_text(f"store: {{url: '{store_url}'}}\n", encoding="utf-8")
    return path


def test_add_list_and_change_password(config: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_PASSWORD", "first-password-1")
    result = runner.invoke(app, ["user", "add", "ann", "--role", "admin", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "user ann added as admin" in result.output
    monkeypatch.delenv("CRMSYNC_PASSWORD")
    result = runner.invoke(app, ["user", "add", "bob", "-c", str(config)],
                           input="second-password-2\nsecond-password-2\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["user", "list", "-c", str(config)]).output
    assert "ann" in listed and "admin" in listed and "bob" in listed and "reviewer" in listed
    monkeypatch.setenv("CRMSYNC_PASSWORD", "third-password-3")
    result = runner.invoke(app, ["user", "passwd", "bob", "--role", "viewer", "-c", str(config)])
    assert result.exit_code == 0, result.output
    store = open_store(store_url)
    try:
        with store.session() as session:
            ann, bob = get_user(session, "ann"), get_user(session, "bob")
    finally:
        store.dispose()
    assert ann is not None and bob is not None
    assert ann[1].startswith("$argon2id$") and "first-password-1" not in ann[1]
    assert verify_password(ann[1], "first-password-1") and not verify_password(ann[1], "first-password-2")
    assert bob[0].role == "viewer" and verify_password(bob[1], "third-password-3")


@pytest.mark.parametrize(("args", "password", "message"), [
    (["user", "add", "ann", "--role", "boss"], "long-enough-pw", "--role 'boss': use one of admin, reviewer, viewer"),
    (["user", "add", "ann"], "short", "too short: use at least 10 characters"),
    (["user", "add", "a b"], "long-enough-pw", "user name 'a b'"),
    (["user", "passwd", "nobody"], "long-enough-pw", "no user 'nobody'"),
])
def test_bad_input_is_a_clear_error(config: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], password: str,
                                    message: str) -> None:
    monkeypatch.setenv("CRMSYNC_PASSWORD", password)
    result = runner.invoke(app, [*args, "-c", str(config)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_name_is_taken_once(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_PASSWORD", "long-enough-pw")
    assert runner.invoke(app, ["user", "add", "ann", "-c", str(config)]).exit_code == 0
    again = runner.invoke(app, ["user", "add", "ann", "-c", str(config)])
    assert again.exit_code == 2 and "already exists" in again.output
