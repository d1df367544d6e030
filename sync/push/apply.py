"""Apply a push plan: batches at the CRM's limit, per-record outcomes, one transaction per batch.

Each batch's remote ids, pushed hashes, dead letters and audit entries are committed together
right after the CRM answered. A crash in between leaves records that were written but not
recorded; the next run plans them again and the writer's create looks them up first, so the
CRM never gets a duplicate. One refused record never fails its batch: per-record errors go to
dead letters, and a batch the CRM refuses as a whole is split until the bad record is alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sync.push.budgets import BudgetExhausted
from sync.push.destination import Delivered, Destination, Missing, OutboundItem, Outcome, Rejected
from sync.push.plan import Plan, PlanRow
from sync.push.retries import Action, AmbiguousWrite, ApiError, TransportError, decide
from sync.redaction import redact
from sync.store import (
    PushedRecord,
    Store,
    audit_remote_change,
    clear_pushed_hash,
    dead_letter,
    delete_xref,
    finish_destination_actions,
    move_xref,
    record_pushes,
    resolve_dead_letters,
)

__all__ = ["PushReport", "apply_plan"]

log = logging.getLogger(__name__)
_CREATE_ATTEMPTS = 6  # re-tries of an ambiguous create; each one looks up first
_KEPT_MESSAGES = 50


@dataclass
class PushReport:
    """What one push did; `error` is set when it stopped early."""

    destination: str
    planned: dict[str, int] = field(default_factory=dict)
    created: int = 0
    linked: int = 0  # "create" found the record already in the CRM (by e-mail or external id)
    updated: int = 0
    merged: int = 0
    repointed: int = 0
    archived: int = 0
    erased: int = 0
    unchanged: int = 0
    dead_lettered: int = 0
    recreated: int = 0  # an update found its remote record gone and created it again
    requests: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.problems) < _KEPT_MESSAGES:
            self.problems.append(message)

    @property
    def delivered(self) -> int:
        return self.created + self.linked + self.updated

    def summary(self) -> list[str]:
        """Lines a person reads: what changed, what was refused, how the CRM's limits went."""
        done = [f"{n} {label}" for label, n in (
            ("created", self.created), ("linked to existing CRM records", self.linked), ("updated", self.updated),
            ("merged", self.merged), ("handed over to their survivor", self.repointed), ("archived", self.archived),
            ("erased", self.erased), ("unchanged", self.unchanged), ("dead-lettered", self.dead_lettered)) if n]
        lines = [f"push to {self.destination}: {', '.join(done) or 'nothing to do'} in {self.seconds:.1f}s "
                 f"({self.requests} requests, {self.rate_limited} answered 429)"]
        lines += [f"  refused: {problem}" for problem in self.problems[:10]]
        if self.dead_lettered > 10:
            lines.append(f"  … {self.dead_lettered - 10} more in the dead_letters table")
        if self.error:
            lines.append(f"  stopped: {self.error}")
        return lines


class _Applier:
    def __init__(self, store: Store, destination: Destination, plan: Plan, run_id: str | None, workers: int) -> None:
        self.store, self.dest, self.plan, self.run_id = store, destination, plan, run_id
        self.name = plan.destination
        self.workers = max(1, workers)
        self.report = PushReport(plan.destination, planned=plan.counts())
        self.rows = {row.golden_id: row for row in plan.rows}
        self._lock = threading.Lock()
        self._stop: BaseException | None = None

    # ------------------------------------------------------------ plumbing

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _halt(self, error: BaseException) -> None:
        with self._lock:
            if self._stop is None:
                self._stop = error

    def _guard(self, work: Callable[[], None]) -> None:
        """Run one unit of work; errors that no record can fix stop the run (the others finish first)."""
        if self._stop is not None:
            return
        try:
            work()
        except (ApiError, BudgetExhausted, TransportError, AmbiguousWrite) as error:
            self._halt(error)

    def _dead_letter(self, rows: Sequence[PlanRow], message: str, category: str | None = None) -> None:
        now = self._now()
        text = redact(f"{category}: {message}" if category else message)
        with self.store.session() as session:
            for row in rows:
                dead_letter(session, self.name, row.golden_id, record_hash=row.record_hash or "",
                            payload=row.payload, error=text, now=now)
        with self._lock:
            self.report.dead_lettered += len(rows)
            for row in rows:
                self.report.note(f"{row.golden_id}: {text}")

    # ------------------------------------------------------------ merges and deletes (one CRM call each)

    def merge(self, row: PlanRow) -> None:
        assert row.into_golden is not None and row.remote_id is not None
        now = self._now()
        if row.how == "repoint":
            with self.store.session() as session:
                move_xref(session, self.name, row.golden_id, row.into_golden)
                finish_destination_actions(session, self.name, [row.golden_id], "merge", now=now)
                audit_remote_change(session, self.name, row.into_golden, "repoint", now=now, run_id=self.run_id,
                                    after={"remote_id": row.remote_id, "from_golden": row.golden_id},
                                    reason=row.reason)
            self.report.repointed += 1
            return
        assert row.into_remote is not None
        try:
            if row.how == "api" and self.dest.supports_merge:
                self.dest.merge(row.into_remote, row.remote_id)
            else:
                self.dest.archive([row.remote_id])
        except ApiError as error:
            if decide(error) is not Action.DEAD_LETTER:
                raise
            self._dead_letter([row], error.message, error.category)
            return
        with self.store.session() as session:
            delete_xref(session, self.name, row.golden_id)
            clear_pushed_hash(session, self.name, [row.into_golden])
            finish_destination_actions(session, self.name, [row.golden_id], "merge", now=now)
            audit_remote_change(session, self.name, row.golden_id, "merge", now=now, run_id=self.run_id,
                                after={"remote_id": row.remote_id, "into_remote_id": row.into_remote,
                                       "into_golden": row.into_golden, "how": row.how}, reason=row.reason)
        self.report.merged += 1

    def delete(self, row: PlanRow) -> None:
        assert row.remote_id is not None
        try:
            if row.how == "erase":
                self.dest.erase([row.remote_id])
            else:
                self.dest.archive([row.remote_id])
        except ApiError as error:
            if decide(error) is not Action.DEAD_LETTER:
                raise
            self._dead_letter([row], error.message, error.category)
            return
        now = self._now()
        with self.store.session() as session:
            delete_xref(session, self.name, row.golden_id)
            resolve_dead_letters(session, self.name, [row.golden_id], now=now)
            finish_destination_actions(session, self.name, [row.golden_id], "delete", now=now)
            # an erased record's audit entry holds ids only: its data must not outlive the erasure
            audit_remote_change(session, self.name, row.golden_id, "delete" if row.how == "erase" else "archive",
                                now=now, run_id=self.run_id, after={"remote_id": row.remote_id}, reason=row.reason)
        if row.how == "erase":
            self.report.erased += 1
        else:
            self.report.archived += 1

    # ------------------------------------------------------------ batched writes

    def _send(self, write: Callable[[Sequence[OutboundItem]], list[Outcome]],
              items: Sequence[OutboundItem]) -> list[Outcome]:
        """Write a batch; a whole-batch refusal is split until each refused record stands alone."""
        try:
            return write(items)
        except ApiError as error:
            if decide(error) is not Action.DEAD_LETTER:
                raise
            if len(items) == 1:
                return [Rejected(items[0].key, error.message, error.category)]
            middle = len(items) // 2
            return self._send(write, items[:middle]) + self._send(write, items[middle:])

    def _create(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        for attempt in range(1, _CREATE_ATTEMPTS + 1):
            try:
                return self._send(self.dest.create, items)
            except AmbiguousWrite as error:
                if attempt == _CREATE_ATTEMPTS:
                    raise
                log.info("push %s: %s; looking the batch up and trying again", self.name, error)
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
        raise AssertionError("unreachable")

    def _record(self, outcomes: Sequence[Outcome], kind: str) -> list[str]:
        """Commit one batch's outcomes; returns the keys whose remote record was missing."""
        pushed: list[PushedRecord] = []
        refused: dict[str, Rejected] = {}
        missing: list[Missing] = []
        for outcome in outcomes:
            if isinstance(outcome, Delivered):
                row = self.rows[outcome.key]
                action = kind if kind == "update" else ("create" if outcome.created else "link")
                pushed.append(PushedRecord(outcome.key, outcome.remote_id, row.record_hash, action, row.payload))
            elif isinstance(outcome, Rejected):
                refused[outcome.key] = outcome
            else:
                missing.append(outcome)
        now = self._now()
        with self.store.session() as session:
            clashes = record_pushes(session, self.name, pushed, now=now, run_id=self.run_id)
            for record, holder in clashes:
                refused[record.golden_id] = Rejected(
                    record.golden_id, f"the CRM answered with record {record.remote_id}, which is golden record "
                    f"{holder}'s: both carry the same unique key (e-mail); merge them or fix the value", "CONFLICT")
            if clashes:  # the holder's CRM record may now carry the other's values: write it again next run
                clear_pushed_hash(session, self.name, [holder for _, holder in clashes])
            for gone in missing:
                delete_xref(session, self.name, gone.key)
        for rejected in refused.values():
            self._dead_letter([self.rows[rejected.key]], rejected.message, rejected.category)
        with self._lock:
            clashed = {r.golden_id for r, _ in clashes}
            for record in pushed:
                if record.golden_id in clashed:
                    continue
                if record.action == "update":
                    self.report.updated += 1
                elif record.action == "create":
                    self.report.created += 1
                else:
                    self.report.linked += 1
        return [gone.key for gone in missing]

    def _batches(self, rows: Sequence[PlanRow], write: Callable[[Sequence[OutboundItem]], list[Outcome]],
                 kind: str) -> list[str]:
        size = max(1, self.dest.batch_size)
        missing: list[str] = []
        items = [OutboundItem(r.golden_id, r.payload, r.remote_id if kind == "update" else None) for r in rows]

        def one(batch: Sequence[OutboundItem]) -> None:
            def work() -> None:
                missing.extend(self._record(write(batch), kind))
            self._guard(work)

        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        if self.workers == 1 or len(chunks) == 1:
            for chunk in chunks:
                one(chunk)
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix=f"push-{self.name}") as pool:
                list(pool.map(one, chunks))
        return missing

    # ------------------------------------------------------------ the whole plan

    def run(self) -> PushReport:
        started = time.perf_counter()
        for row in self.plan.of("merge"):
            self._guard(lambda row=row: self.merge(row))
        for row in self.plan.of("delete"):
            self._guard(lambda row=row: self.delete(row))
        merged_into = {r.into_golden for r in self.plan.of("merge") if r.how != "repoint"}
        updates = [r for r in self.plan.rows if r.action == "update"
                   or (r.action == "noop" and r.golden_id in merged_into and r.how != "dead-lettered")]
        self.report.unchanged = sum(1 for r in self.plan.rows if r.action == "noop") - \
            sum(1 for r in updates if r.action == "noop")
        if self._stop is None:
            missing = self._batches(updates, lambda b: self._send(self.dest.update, b), "update")
            self.report.recreated = len(missing)
            creates = self.plan.of("create") + [self.rows[key] for key in missing]
            # a writer may create different records different ways (HubSpot: upsert by e-mail, or look up
            # then create); batching each way apart keeps one call per batch
            lane = getattr(self.dest, "create_lane", None)
            if lane is not None:
                creates.sort(key=lambda r: lane(OutboundItem(r.golden_id, r.payload)))
            if self._stop is None:
                self._batches(creates, self._create, "create")
        for row in self.plan.of("reject"):
            self._dead_letter([row], row.reason, "CONFLICT" if row.how == "conflict" else "NOT_SENT")
        stats = self.dest.stats
        self.report.requests, self.report.rate_limited = stats.requests, stats.rate_limited
        self.report.seconds = time.perf_counter() - started
        if self._stop is not None:
            self.report.error = redact(f"push to {self.name} stopped early: {self._stop}. Records not yet "
                                       "written stay pending; the next run picks them up.")
        return self.report


def apply_plan(store: Store, destination: Destination, plan: Plan, *, run_id: str | None = None,
               workers: int = 2) -> PushReport:
    """Carry out `plan` against `destination`; never raises for a refused record."""
    return _Applier(store, destination, plan, run_id, workers).run()
