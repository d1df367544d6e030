"""The review verbs of the CLI: suggestions, review (keys and bulk), golden show, merge, unmerge,
pin, unpin, audit; and `crmsync review` in a real terminal under tmux."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from sync.store import Store, list_suggestion_rows, open_store
from tests.review.conftest import PEOPLE, ScriptedMatcher, golden_of, ingest, run_match

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Store]:
    """A project whose SQLite store holds five golden records and two pending suggestions."""
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    monkeypatch.setenv("CRMSYNC_USER", "ann")
    store = open_store(f"sqlite:///{tmp_path / 'crmsync.db'}")
    ingest(store, PEOPLE)
    run_match(store, ScriptedMatcher({("ann", "anne"): 0.55, ("bob", "rob"): 0.90}))
    config = tmp_path / "crmsync.yaml"
    config.write_text("store: {url: 'sqlite:///crmsync.db'}\n", encoding="utf-8")
    yield config, store
    store.dispose()


def cli(*args: str, input: str | None = None) -> str:  # noqa: A002 - CliRunner's name
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("verb", [["review"], ["suggestions"], ["suggestions", "assign"], ["golden", "show"],
                                  ["merge"], ["unmerge"], ["pin"], ["unpin"], ["audit"], ["erase"]])
def test_help(verb: list[str]) -> None:
    assert "Usage" in cli(*verb, "--help")


def test_suggestions_list_and_assign(project: tuple[Path, Store]) -> None:
    config, store = project
    out = cli("suggestions", "-c", str(config))
    assert "2 suggestion(s)" in out and "same surname; e-mail differs" in out
    assert out.index("0.55") < out.index("0.90")  # the uncertain one first
    assert "1 suggestion(s)" in cli("suggestions", "-c", str(config), "--source", "web")
    cli("suggestions", "assign", "2", "--to", "bob", "-c", str(config))
    assert "bob" in cli("suggestions", "-c", str(config), "--assignee", "bob")


def test_review_with_single_keys(project: tuple[Path, Store]) -> None:
    config, store = project
    out = cli("review", "-c", str(config), input="xdr")  # 'x' is ignored; defer the first, reject the second
    assert "≠ full_name" in out and "why the engine suggests it" in out
    assert "review: 0 accepted, 1 rejected, 1 deferred, 0 skipped" in out
    with store.session() as session:
        rows = {r.status: r.reviewer for r in list_suggestion_rows(session, None)}
    assert rows == {"deferred": "user:ann", "rejected": "user:ann"}
    out = cli("review", "-c", str(config), "--deferred", input="a")
    assert "merged" in out and "review: 1 accepted" in out
    assert "review: 0 accepted, 0 rejected, 0 deferred, 0 skipped" in cli("review", "-c", str(config), input="q")


def test_review_quits_on_q_and_at_end_of_input(project: tuple[Path, Store]) -> None:
    config, _ = project
    assert "0 skipped" in cli("review", "-c", str(config), input="q")
    assert "1 skipped" in cli("review", "-c", str(config), input="s")  # then input ends: quit


def test_bulk_accept_previews_and_asks(project: tuple[Path, Store]) -> None:
    config, store = project
    out = cli("review", "-c", str(config), "--accept-above", "0.8", input="n\n")
    assert "would merge 1 golden record(s) into 1" in out and "nothing changed" in out
    out = cli("review", "-c", str(config), "--accept-above", "0.5", "--yes")
    assert "accepted 2; left alone 0" in out


def test_merge_show_pin_unmerge_and_audit(project: tuple[Path, Store], tmp_path: Path) -> None:
    config, store = project
    ann, bob = golden_of(store, "crm", "1"), golden_of(store, "web", "4")
    cli("pin", ann, "company", "Acme Corp", "-c", str(config), "--reason", "signed contract")
    assert "merged" in cli("merge", ann, bob, "-c", str(config), "--as", "zoe")
    shown = cli("golden", "show", ann, "-c", str(config))
    assert "Acme Corp" in shown and "pinned by user:ann" in shown and "golden.merge" in shown
    assert "web/contacts/4" in shown and "manual" in shown and "user:zoe" in shown
    assert "undid merge #1" in cli("unmerge", ann, "-c", str(config))
    assert "split 1 source record(s)" in cli("unmerge", ann, "--record", "sheet/contacts/2", "-c", str(config))
    cli("unpin", ann, "company", "-c", str(config))

    out = cli("audit", "-c", str(config), "--customer", ann)
    rows = list(csv.DictReader(io.StringIO(out)))
    actions = [r["action"] for r in rows]
    assert {"golden.create", "golden.pin", "golden.merge", "golden.unmerge", "golden.split", "golden.unpin"} <= set(
        actions)
    assert any(r["action"] == "golden.retire" and r["entity_id"] == bob for r in rows)  # followed through the merge
    pin_row = next(r for r in rows if r["action"] == "golden.pin" and r["field"] == "company")
    assert (pin_row["before"], pin_row["after"], pin_row["actor"], pin_row["reason"]) == (
        "Acme", "Acme Corp", "user:ann", "signed contract")
    path = tmp_path / "audit.json"
    cli("audit", "-c", str(config), "--format", "json", "--out", str(path), "--since", "2000-01-01")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "golden.merge" in {e["action"] for e in document}
    assert all({"actor", "action", "entity_id", "before", "after", "reason", "run_id"} <= e.keys() for e in document)
    assert json.loads(cli("audit", "-c", str(config), "--format", "json", "--until", "2000-01-01")) == []


@pytest.mark.parametrize(("args", "code", "message"), [
    (["merge", "nope", "nada"], 2, "no golden record 'nope'"),
    (["unmerge", "nope"], 2, "has no merge to undo"),
    (["pin", "nope", "nickname", "x"], 2, "cannot pin 'nickname'"),
    (["audit", "--format", "xml"], 2, "use csv or json"),
    (["audit", "--since", "yesterday"], 2, "use an ISO date"),
    (["review", "--as", "bad name!"], 2, "reviewer name"),
])
def test_errors_are_messages_with_exit_codes(project: tuple[Path, Store], args: list[str], code: int,
                                             message: str) -> None:
    config, _ = project
    result = runner.invoke(app, [*args, "-c", str(config)])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_a_stale_decision_is_a_conflict_with_exit_code_3(project: tuple[Path, Store]) -> None:
    config, store = project
    ann, bob = golden_of(store, "crm", "1"), golden_of(store, "web", "4")
    cli("merge", ann, bob, "-c", str(config))
    result = runner.invoke(app, ["merge", bob, ann, "-c", str(config)])
    assert result.exit_code == 3 and "conflict: golden record" in result.output


# ---------------------------------------------------------------- a real terminal


def _pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                          check=True).stdout


def _wait_for(session: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _pane(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared on the terminal:\n{_pane(session)}")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_review_in_a_real_terminal_under_tmux(project: tuple[Path, Store], tmp_path: Path) -> None:
    config, store = project
    session = f"crmsync-review-{os.getpid()}"
    command = (f"cd {tmp_path} && CRMSYNC_USER=ann {sys.executable} -m crmsync review -c {config}; "
               "echo REVIEW-EXIT=$?; sleep 30")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50", command], check=True)
    try:
        _wait_for(session, "1/2 suggestion #")
        assert "[a]ccept" in _wait_for(session, "[q]uit ?")
        subprocess.run(["tmux", "send-keys", "-t", session, "a"], check=True)  # one key, no Enter
        screen = _wait_for(session, "2/2 suggestion #")
        assert "merged" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        screen = _wait_for(session, "REVIEW-EXIT=")
        assert "review: 1 accepted, 0 rejected, 0 deferred, 0 skipped" in screen and "REVIEW-EXIT=0" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    with store.session() as s:
        assert sorted(r.status for r in list_suggestion_rows(s, None)) == ["accepted", "pending"]


def test_erase_previews_asks_and_prints_the_receipt(project: tuple[Path, Store]) -> None:
    config, store = project
    out = cli("erase", "--email", "bob@x.com", "-c", str(config), input="n\n")
    assert "found 1 golden record(s), 1 source record(s)" in out and "nothing erased" in out
    out = cli("erase", "--email", "bob@x.com", "--reason", "ticket 17", "--yes", "-c", str(config), "--as", "dpo")
    assert "erased: receipt" in out and "source_records: 1" in out
    rows = list(csv.DictReader(io.StringIO(cli("audit", "-c", str(config)))))
    assert not [r for r in rows if "bob@x.com" in r["before"] + r["after"]]
    assert any(r["action"] == "golden.erase" and r["actor"] == "user:dpo" for r in rows)
    result = runner.invoke(app, ["erase", "--email", "nonsense", "--yes", "-c", str(config)])
    assert result.exit_code == 2 and "cannot erase" in result.output
