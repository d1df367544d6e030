"""Review verbs: suggestions, golden records, merges, pins, audit and erasure.

Thin verbs over sync.review; rendering only. People act as 'user:<name>' (--as, CRMSYNC_USER, login name).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmsync.cli import ConfigOption, _fail, _project, _store, app, console, err
from crmsync.config import DEFAULT_PROJECT_FILE

if TYPE_CHECKING:
    from datetime import datetime

    from rich.table import Table

    from sync.review import QueueItem, SuggestionDetail

suggestions_app = typer.Typer(help="Merge suggestions waiting for a person.", invoke_without_command=True)
app.add_typer(suggestions_app, name="suggestions")
golden_app = typer.Typer(help="Golden records: values, provenance, history.", no_args_is_help=True)
app.add_typer(golden_app, name="golden")

AsOption = Annotated[str | None, typer.Option("--as", help="Your reviewer name (default: $CRMSYNC_USER or login).")]


def _actor(name: str | None) -> str:
    import getpass

    from sync.review import ReviewError, user_actor

    try:
        return user_actor(name or os.environ.get("CRMSYNC_USER") or getpass.getuser())
    except ReviewError as exc:
        raise _fail(str(exc)) from None


class _Review:
    """The project and store a review verb works on; errors become clear messages and exit codes."""

    def __init__(self, config: Path) -> None:
        self.project = _project(config)
        self.rules = self.project.survivorship.rules()
        self.store = _store(self.project)

    def __enter__(self) -> _Review:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        from sync.review import ConflictError, NotFoundError, ReviewError

        self.store.dispose()
        if isinstance(exc, ConflictError):
            raise _fail(f"conflict: {exc}", code=3) from None
        if isinstance(exc, NotFoundError | ReviewError):
            raise _fail(str(exc)) from None


def _value(value: object) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _suggestion_table(items: list[QueueItem]) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(items)} suggestion(s), most worth deciding first", title_justify="left")
    for column in ("#", "score", "priority", "records", "sources", "assignee", "why"):
        table.add_column(column, overflow="fold")
    for i in items:
        table.add_row(str(i.id), f"{i.score:.2f}", f"{i.priority:.2f}", str(i.records), ", ".join(i.sources),
                      i.assignee or "", i.sentence)
    return table


@suggestions_app.callback()
def suggestions(
    ctx: typer.Context,
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    limit: Annotated[int | None, typer.Option(help="Show at most this many.")] = 20,
    status: Annotated[str, typer.Option(help="pending, deferred, accepted or rejected.")] = "pending",
    source: Annotated[str | None, typer.Option(help="Only where either side has records from this source.")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lowest score to show.")] = None,
    max_score: Annotated[float | None, typer.Option(help="Highest score to show.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only those assigned to this reviewer.")] = None,
) -> None:
    """List merge suggestions by uncertainty × records affected."""
    if ctx.invoked_subcommand is not None:
        return
    from sync.review import list_suggestions

    with _Review(config) as r:
        try:
            items = list_suggestions(r.store, statuses=(status,), source=source, min_score=min_score,
                                     max_score=max_score, assignee=assignee, limit=limit)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    console.print(_suggestion_table(items))


@suggestions_app.command("assign")
def suggestions_assign(
    suggestion: Annotated[int, typer.Argument(help="Suggestion number.")],
    to: Annotated[str | None, typer.Option("--to", help="Reviewer to give it to (omit: unassign).")] = None,
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
) -> None:
    """Assign a suggestion to a reviewer."""
    from sync.review import assign

    with _Review(config) as r:
        row = assign(r.store, suggestion, to, actor=_actor(as_))
    console.print(f"suggestion #{row.id} assigned to {row.assignee or 'nobody'}")


def _render_suggestion(detail: SuggestionDetail, position: str) -> None:
    from rich.panel import Panel
    from rich.table import Table

    item = detail.item
    table = Table(title=f"{position} suggestion #{item.id}: score {item.score:.2f} ({item.reason}), "
                        f"{item.records} source records", title_justify="left", expand=True)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column(f"A {item.golden_a[:8]}", overflow="fold")
    table.add_column(f"B {item.golden_b[:8]}", overflow="fold")
    for row in detail.fields:
        style = "yellow" if row.differs else None
        mark = "≠ " if row.differs else "  "
        a = _value(row.a) + (f"\n[dim]{row.from_a}[/]" if row.from_a and row.differs else "")
        b = _value(row.b) + (f"\n[dim]{row.from_b}[/]" if row.from_b and row.differs else "")
        table.add_row(mark + row.field, a, b, style=style)
    console.print(table)
    evidence = ", ".join(f"{e.comparison}: {e.level} ({e.bits:+.1f})" for e in detail.evidence if e.bits)
    console.print(Panel(f"{item.sentence or 'no explanation recorded'}\n[dim]{evidence}[/]",
                        title="why the engine suggests it", title_align="left"), highlight=False)


def _bulk(r: _Review, above: float, yes: bool, actor: str) -> None:
    from sync.review import bulk_accept, preview_bulk_accept

    preview = preview_bulk_accept(r.store, above)
    console.print(f"accepting {len(preview.suggestion_ids)} suggestion(s) scored {above} or more would merge "
                  f"{preview.golden_retired} golden record(s) into {preview.golden_changed} "
                  f"({preview.records} source records)")
    for survivor, losers in preview.groups.items():
        console.print(f"  {survivor} ← {', '.join(losers)}", highlight=False)
    if not preview.suggestion_ids or not (yes or typer.confirm("Accept them all?", default=False)):
        console.print("nothing changed")
        return
    result = bulk_accept(r.store, preview, actor=actor, rules=r.rules)
    console.print(f"accepted {len(result.accepted)}; left alone {len(result.conflicts)}")
    for sid, why in result.conflicts.items():
        console.print(f"  #{sid}: {why}", highlight=False)


def _key(allowed: str) -> str:
    """One key press from the terminal; end of input and Ctrl-C mean quit."""
    while True:
        try:
            key = typer.getchar().lower()
        except (KeyboardInterrupt, EOFError):
            return "q"
        if not key or key == "\x03":
            return "q"
        if key in allowed:
            return key


@app.command()
def review(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
    source: Annotated[str | None, typer.Option(help="Only suggestions with records from this source.")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lowest score to review.")] = None,
    max_score: Annotated[float | None, typer.Option(help="Highest score to review.")] = None,
    mine: Annotated[bool, typer.Option(help="Only suggestions assigned to me.")] = False,
    deferred: Annotated[bool, typer.Option(help="Review the deferred suggestions instead.")] = False,
    accept_above: Annotated[float | None, typer.Option(help="Bulk: preview, then accept all at or above.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Bulk: do not ask before accepting.")] = False,
) -> None:
    """Review merge suggestions one by one: a(ccept), r(eject), d(efer), s(kip), q(uit)."""
    from sync.review import ConflictError, NotFoundError, accept, defer, get_suggestion, list_suggestions, reject

    actor = _actor(as_)
    with _Review(config) as r:
        if accept_above is not None:
            _bulk(r, accept_above, yes, actor)
            return
        items = list_suggestions(r.store, statuses=("deferred",) if deferred else ("pending",), source=source,
                                 min_score=min_score, max_score=max_score,
                                 assignee=actor.removeprefix("user:") if mine else None)
        done = {"accepted": 0, "rejected": 0, "deferred": 0, "skipped": 0}
        for n, item in enumerate(items, 1):
            try:
                detail = get_suggestion(r.store, item.id)
            except NotFoundError:  # a match run or another reviewer's merge withdrew it meanwhile
                console.print(f"suggestion #{item.id} was withdrawn meanwhile; next")
                continue
            _render_suggestion(detail, f"{n}/{len(items)}")
            console.print(r"[bold]\[a][/]ccept  [bold]\[r][/]eject  [bold]\[d][/]efer  [bold]\[s][/]kip  "
                          r"[bold]\[q][/]uit ? ", end="")
            key = _key("ardsq")
            console.print(key)
            if key == "q":
                break
            try:
                if key == "a":
                    merged = accept(r.store, item.id, actor=actor, rules=r.rules,
                                    expected_version=detail.item.version)
                    console.print(f"[green]merged[/] {merged.loser} into {merged.survivor}")
                    done["accepted"] += 1
                elif key == "r":
                    rejected = reject(r.store, item.id, actor=actor, expected_version=detail.item.version)
                    console.print(f"[red]rejected[/]: {rejected.cannot_links} record pair(s) kept apart")
                    done["rejected"] += 1
                elif key == "d":
                    defer(r.store, item.id, actor=actor, expected_version=detail.item.version)
                    console.print("deferred")
                    done["deferred"] += 1
                else:
                    done["skipped"] += 1
            except ConflictError as exc:
                console.print(f"[bold red]conflict:[/] {exc}", highlight=False)
        console.print("review: " + ", ".join(f"{v} {k}" for k, v in done.items()), highlight=False)


@golden_app.command("show")
def golden_show(
    golden_id: Annotated[str, typer.Argument(help="Golden record id.")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    history: Annotated[int, typer.Option(help="How many audit entries to show.")] = 30,
) -> None:
    """A golden record: values with provenance, pins, source records, merges and history."""
    from rich.table import Table

    from sync.review import show_golden

    with _Review(config) as r:
        view = show_golden(r.store, golden_id, history=history)
    g = view.golden
    console.print(f"[bold]{g.id}[/] {g.status}, version {g.version}, updated {g.updated_at:%Y-%m-%d %H:%M} UTC",
                  highlight=False)
    values = Table("field", "value", "from", title="values", title_justify="left")
    for name, value in g.fields.items():
        parts = value.items() if isinstance(value, dict) else [(None, value)]
        for key, part in parts:
            path = f"{name}.{key}" if key else name
            origin = g.provenance.get(path) or {}
            where = (f"pinned by {origin.get('pinned_by')}" if origin.get("source") == "pin" else
                     f"{origin.get('source')}/{origin.get('stream')}/{origin.get('source_record_id')} "
                     f"{str(origin.get('updated_at', ''))[:10]}" if origin else "")
            if origin.get("rule"):
                where += f" ({origin['rule']})"
            if _value(part):
                values.add_row(path, _value(part), where)
    console.print(values)
    records = Table("record", "id", "linked by", "score", "decided by", title="source records", title_justify="left")
    for s in view.records:
        records.add_row(f"{s.source}/{s.stream}/{s.source_record_id}" + (" (deleted)" if s.deleted else ""),
                        str(s.pk), s.method, f"{s.score:.2f}", s.decided_by)
    console.print(records)
    for c in view.changes:
        console.print(f"change #{c.id}: {c.kind} {c.golden_id} ← {c.other_id} by {c.actor} at {c.at:%Y-%m-%d %H:%M}"
                      + (f", undone by {c.undone_by}" if c.undone_at else ""), highlight=False)
    for destination, remote in view.destinations.items():
        console.print(f"in {destination} as {remote}", highlight=False)
    for a in view.actions:
        console.print(f"queued for {a.destination}: {a.action} ({a.status}): {a.reason}", highlight=False)
    log = Table("at", "actor", "action", "changed", "reason", title="history", title_justify="left")
    for e in view.history:
        before = e.before if isinstance(e.before, dict) else {}
        after = e.after if isinstance(e.after, dict) else {}
        changed = sorted(k for k in set(before) | set(after)
                         if k != "pin" and (before.get(k) not in (None, "", [], {}) or after.get(k) not in (
                             None, "", [], {})))
        log.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.actor, e.action, ", ".join(changed)[:60], e.reason or "")
    console.print(log)


@app.command("merge")
def merge_cmd(
    survivor: Annotated[str, typer.Argument(help="Golden record that stays.")],
    other: Annotated[str, typer.Argument(help="Golden record merged into it (retired).")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
) -> None:
    """Merge two golden records by hand (undo with `crmsync unmerge`)."""
    from sync.review import merge

    with _Review(config) as r:
        done = merge(r.store, survivor, other, actor=_actor(as_), rules=r.rules, reason=reason)
    console.print(f"merged {done.loser} into {done.survivor} (change #{done.change_id}, {done.records} source "
                  f"records; {done.destination_actions} destination action(s) queued)", highlight=False)


@app.command("unmerge")
def unmerge_cmd(
    golden_id: Annotated[str, typer.Argument(help="Golden record to split.")],
    record: Annotated[list[str] | None, typer.Option(help="Source record (id or SOURCE/STREAM/ID) to split off; "
                                                          "repeatable. Omit to undo the latest merge.")] = None,
    change: Annotated[int | None, typer.Option(help="The merge to undo (must be the latest).")] = None,
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
) -> None:
    """Undo the latest merge exactly, or split named source records off into a new golden record."""
    from sync.review import parse_record_ref, split, unmerge

    with _Review(config) as r:
        if record:
            done = split(r.store, golden_id, [parse_record_ref(k) for k in record], actor=_actor(as_), rules=r.rules)
            console.print(f"split {len(done.records)} source record(s) off {done.golden_id} into "
                          f"{done.new_golden_id} (change #{done.change_id})", highlight=False)
            return
        undone = unmerge(r.store, golden_id, actor=_actor(as_), change_id=change)
    console.print(f"undid merge #{undone.change_id}: {undone.restored} restored next to {undone.survivor}; "
                  f"{undone.cannot_links} record pair(s) kept apart", highlight=False)


@app.command("pin")
def pin_cmd(
    golden_id: Annotated[str, typer.Argument(help="Golden record id.")],
    field: Annotated[str, typer.Argument(help="Field: full_name, company, emails (primary), address.city, ...")],
    value: Annotated[str, typer.Argument(help="The value that wins until unpinned.")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None,
) -> None:
    """Pin a golden record's field to a value: it wins over every source until unpinned."""
    from sync.review import pin

    with _Review(config) as r:
        pin(r.store, golden_id, field, value, actor=_actor(as_), rules=r.rules, reason=reason)
    console.print(f"pinned {field} on {golden_id}", highlight=False)


@app.command("unpin")
def unpin_cmd(
    golden_id: Annotated[str, typer.Argument(help="Golden record id.")],
    field: Annotated[str, typer.Argument(help="The pinned field.")],
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    as_: AsOption = None,
) -> None:
    """Remove a pin: the field follows its survivorship rule again."""
    from sync.review import unpin

    with _Review(config) as r:
        unpin(r.store, golden_id, field, actor=_actor(as_), rules=r.rules)
    console.print(f"unpinned {field} on {golden_id}", highlight=False)


def _when(text: str | None, option: str) -> datetime | None:
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} {text!r}: use an ISO date or time, e.g. 2026-01-31 or 2026-01-31T09:00") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@app.command()
def audit(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    customer: Annotated[str | None, typer.Option(help="Golden record id (follows its merges and splits).")] = None,
    run: Annotated[str | None, typer.Option(help="Sync run id.")] = None,
    since: Annotated[str | None, typer.Option(help="From (inclusive), ISO date or time; UTC if no zone.")] = None,
    until: Annotated[str | None, typer.Option(help="Until (exclusive), ISO date or time.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
) -> None:
    """Export the audit log (who, what, when, before → after per field, reason, run) as CSV or JSON."""
    from sync.review.audit import audit_entries, write_audit

    if fmt not in ("csv", "json"):
        raise _fail(f"--format {fmt!r}: use csv or json")
    with _Review(config) as r:
        entries = audit_entries(r.store, customer=customer, run_id=run, since=_when(since, "--since"),
                                until=_when(until, "--until"))
    if out is None:
        write_audit(entries, sys.stdout, fmt)  # type: ignore[arg-type]
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        rows = write_audit(entries, handle, fmt)  # type: ignore[arg-type]
    err.print(f"wrote {out}: {len(entries)} audit entries ({rows} rows)", highlight=False)


@app.command()
def erase(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    email: Annotated[list[str] | None, typer.Option(help="The person's e-mail (repeatable).")] = None,
    phone: Annotated[list[str] | None, typer.Option(help="The person's phone (repeatable).")] = None,
    golden_id: Annotated[list[str] | None, typer.Option(help="The person's golden record (repeatable).")] = None,
    reason: Annotated[str | None, typer.Option(help="The request, for the receipt (no personal data).")] = None,
    as_: AsOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before erasing.")] = False,
) -> None:
    """GDPR erasure: remove a person everywhere, keep a tombstone and a receipt, queue deletions at CRMs."""
    from sync.review import erase as erase_person
    from sync.review import preview_erasure

    actor = _actor(as_)
    with _Review(config) as r:
        region = r.project.defaults.phone_region
        who = {"emails": email or [], "phones": phone or [], "golden_ids": golden_id or []}
        preview = preview_erasure(r.store, phone_region=region, **who)
        console.print(f"found {len(preview.golden_ids)} golden record(s), {preview.source_records} source "
                      f"record(s), {preview.interactions} interaction(s), {preview.inbox} inbox submission(s), "
                      f"{preview.quarantine} quarantined row(s), {preview.dead_letters} dead letter(s); "
                      f"destinations holding them: {', '.join(preview.destinations) or 'none'}", highlight=False)
        if not (yes or typer.confirm("Erase this person everywhere? This cannot be undone", default=False)):
            console.print("nothing erased")
            return
        result = erase_person(r.store, actor=actor, reason=reason, phone_region=region, **who)
    console.print(f"erased: receipt {result.receipt_id}", highlight=False)
    for table, count in result.touched.items():
        console.print(f"  {table}: {count}", highlight=False)
    console.print(f"  tombstones: {result.tombstones}; deletions queued at destinations: "
                  f"{result.destination_actions}", highlight=False)
