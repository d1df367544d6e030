"""The review queue: filtered list, one suggestion side by side, decisions, undo and bulk accept.

Pages call sync.review exactly as the CLI does; forms post plain HTML so every decision works
without JavaScript (static/admin.js only adds the keyboard shortcuts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from crmsync.web.auth import Viewer, csrf_protect, require_role
from crmsync.web.pages import back, flash, project_of, render, store_of
from sync.review import (
    ConflictError,
    NotFoundError,
    QueueItem,
    ReviewError,
    accept,
    assign,
    bulk_accept,
    defer,
    get_suggestion,
    preview_bulk_accept,
    reject,
    unmerge,
)
from sync.review.queue import priority
from sync.store import LinkedSource, linked_sources, load_golden
from sync.store.review_queue import queue_candidates, record_sources, suggestion_rows
from sync.store.users import remember_decision

__all__ = ["PAGE_SIZE", "QueueFilters", "router"]

router = APIRouter()
PAGE_SIZE = 50
_viewer = require_role("viewer")
_reviewer = require_role("reviewer")


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, as they travel in query strings and hidden form fields."""

    status: str = "pending"
    source: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    assignee: str | None = None  # a name, or '-' for unassigned

    def params(self) -> dict[str, Any]:
        """As query parameters (empty ones left out)."""
        found = {"status": None if self.status == "pending" else self.status, "source": self.source,
                 "min_score": self.min_score, "max_score": self.max_score, "assignee": self.assignee}
        return {k: v for k, v in found.items() if v is not None}

    def ranked_ids(self, request: Request) -> list[int]:
        """Every suggestion id under these filters, most worth deciding first (the order of list_suggestions)."""
        with store_of(request).session() as session:
            found = queue_candidates(session, status=self.status, source=self.source, min_score=self.min_score,
                                     max_score=self.max_score,
                                     assignee=None if self.assignee in (None, "-") else self.assignee,
                                     unassigned=self.assignee == "-")
        found.sort(key=lambda c: (-priority(c.score, c.records), abs(c.score - 0.5), c.id))
        return [c.id for c in found]


def page_items(request: Request, ids: list[int]) -> tuple[list[QueueItem], dict[str, str]]:
    """Queue items for one page of ids, in that order, and the golden records' names."""
    with store_of(request).session() as session:
        rows = suggestion_rows(session, ids)
        golden_ids = {g for r in rows.values() for g in (r.golden_a, r.golden_b)}
        linked: dict[str, list[LinkedSource]] = {}
        for s in linked_sources(session, golden_ids):
            linked.setdefault(s.golden_id, []).append(s)
        golden = load_golden(session, golden_ids, status=None)
    items = []
    for sid in ids:
        row = rows.get(sid)
        if row is None:
            continue
        live = [s for s in linked.get(row.golden_a, []) + linked.get(row.golden_b, []) if not s.deleted]
        explanation = row.explanation or {}
        items.append(QueueItem(id=row.id, golden_a=row.golden_a, golden_b=row.golden_b, score=row.score,
                               status=row.status, assignee=row.assignee, reviewer=row.reviewer, version=row.version,
                               records=len(live), sources=tuple(sorted({s.source for s in live})),
                               priority=priority(row.score, len(live)), sentence=str(explanation.get("sentence", "")),
                               reason=str(explanation.get("reason", ""))))
    names = {gid: str(g.fields.get("full_name") or gid[:8]) for gid, g in golden.items()}
    return items, names


def _score(text: str | None, name: str) -> float | None:
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        raise HTTPException(422, f"{name} {text!r}: give a score between 0 and 1, e.g. 0.8") from None
    if not 0.0 <= value <= 1.0:
        raise HTTPException(422, f"{name} {value}: give a score between 0 and 1")
    return value


def filters(status: str = "pending", source: str | None = None, min_score: str | None = None,
            max_score: str | None = None, assignee: str | None = None) -> QueueFilters:
    """Dependency: the queue filters from the query string."""
    if status not in ("pending", "deferred"):
        raise HTTPException(422, f"status {status!r}: the queue shows pending or deferred suggestions")
    return QueueFilters(status, source or None, _score(min_score, "min_score"), _score(max_score, "max_score"),
                        (assignee or "").strip() or None)


def form_filters(status: Annotated[str, Form()] = "pending", source: Annotated[str, Form()] = "",
                 min_score: Annotated[str, Form()] = "", max_score: Annotated[str, Form()] = "",
                 assignee: Annotated[str, Form()] = "") -> QueueFilters:
    """Dependency: the same filters, carried by a decision form so the reviewer stays in their queue."""
    return filters(status, source, min_score, max_score, assignee)


Filters = Annotated[QueueFilters, Depends(filters)]
FormFilters = Annotated[QueueFilters, Depends(form_filters)]


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """The queue is the home page."""
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, viewer: Annotated[Viewer, Depends(_viewer)], f: Filters,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """The queue, one page at a time."""
    ids = f.ranked_ids(request)
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    page = min(page, pages)
    shown, names = page_items(request, ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])
    with store_of(request).session() as session:
        sources = record_sources(session)
    return render(request, "queue.html", items=shown, total=len(ids), page=page, pages=pages, f=f,
                  params=f.params(), sources=sources, names=names)


@router.get("/api/queue")
def queue_api(request: Request, viewer: Annotated[Viewer, Depends(_viewer)], f: Filters,
              page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> JSONResponse:
    """The queue as JSON, paginated like the page."""
    ids = f.ranked_ids(request)
    shown, _ = page_items(request, ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])
    return JSONResponse({"total": len(ids), "page": page, "page_size": PAGE_SIZE, "items": [
        {"id": i.id, "score": i.score, "priority": i.priority, "records": i.records, "sources": list(i.sources),
         "assignee": i.assignee, "version": i.version, "sentence": i.sentence} for i in shown]})


def _next_after(request: Request, f: QueueFilters, current: int) -> int | None:
    return next((i for i in f.ranked_ids(request) if i != current), None)


@router.get("/suggestions/{suggestion_id}", response_class=HTMLResponse)
def suggestion_page(request: Request, suggestion_id: int, viewer: Annotated[Viewer, Depends(_viewer)],
                    f: Filters) -> HTMLResponse:
    """One suggestion: both golden records side by side, the explanation, the per-field weights."""
    try:
        detail = get_suggestion(store_of(request), suggestion_id)
    except NotFoundError as exc:
        return render(request, "missing.html", status_code=404, message=str(exc))
    ids = f.ranked_ids(request)
    position = ids.index(suggestion_id) + 1 if suggestion_id in ids else None
    following = ids[position] if position is not None and position < len(ids) else None
    if position is None and ids:
        following = ids[0]
    top = max((abs(e.bits) for e in detail.evidence), default=1.0) or 1.0
    return render(request, "suggestion.html", d=detail, f=f, params=f.params(), position=position,
                  total=len(ids), following=following, top_bits=top)


def _remember(request: Request, viewer: Viewer, decision: dict[str, Any] | None) -> None:
    with store_of(request).session() as session:
        remember_decision(session, viewer.token_hash, decision)


def _after(request: Request, f: QueueFilters, current: int) -> RedirectResponse:
    following = _next_after(request, f, current)
    if following is None:
        return back("/queue", f.params())
    return back(f"/suggestions/{following}", f.params())


@router.post("/suggestions/{suggestion_id}/decide", dependencies=[Depends(csrf_protect)])
def decide(request: Request, suggestion_id: int, viewer: Annotated[Viewer, Depends(_reviewer)], f: FormFilters,
           action: Annotated[str, Form()], version: Annotated[int, Form()]) -> RedirectResponse:
    """Accept, reject, defer or skip; then on to the next suggestion of the same queue."""
    store = store_of(request)
    try:
        if action == "accept":
            merged = accept(store, suggestion_id, actor=viewer.actor, expected_version=version,
                            rules=project_of(request).survivorship.rules())
            _remember(request, viewer, {"action": "accept", "suggestion": suggestion_id,
                                        "survivor": merged.survivor, "change_id": merged.change_id})
            return flash(_after(request, f, suggestion_id),
                         f"Suggestion #{suggestion_id} accepted: {merged.loser} merged into {merged.survivor}.",
                         link=("Open the golden record", f"/golden/{merged.survivor}"), undo=True)
        if action == "reject":
            outcome = reject(store, suggestion_id, actor=viewer.actor, expected_version=version)
            _remember(request, viewer, {"action": "reject", "suggestion": suggestion_id})
            return flash(_after(request, f, suggestion_id), f"Suggestion #{suggestion_id} rejected: "
                         f"{outcome.cannot_links} record pair(s) will be kept apart.")
        if action == "defer":
            defer(store, suggestion_id, actor=viewer.actor, expected_version=version)
            _remember(request, viewer, {"action": "defer", "suggestion": suggestion_id})
            return flash(_after(request, f, suggestion_id), f"Suggestion #{suggestion_id} deferred: it waits in "
                         "the deferred queue.", link=("Deferred queue", "/queue?status=deferred"))
        if action == "skip":
            return _skip(request, f, suggestion_id)
    except ConflictError as exc:
        return flash(back(f"/suggestions/{suggestion_id}", f.params()), f"Conflict: {exc}", "error")
    except (NotFoundError, ReviewError) as exc:
        return flash(back("/queue", f.params()), str(exc), "error")
    raise HTTPException(422, f"action {action!r}: use accept, reject, defer or skip")


def _skip(request: Request, f: QueueFilters, current: int) -> RedirectResponse:
    ids = f.ranked_ids(request)
    if current in ids and ids.index(current) + 1 < len(ids):
        return back(f"/suggestions/{ids[ids.index(current) + 1]}", f.params())
    return flash(back("/queue", f.params()), "That was the last suggestion of this queue.")


@router.post("/suggestions/{suggestion_id}/assign", dependencies=[Depends(csrf_protect)])
def assign_to(request: Request, suggestion_id: int, viewer: Annotated[Viewer, Depends(_reviewer)],
              f: FormFilters, version: Annotated[int, Form()],
              to: Annotated[str, Form(max_length=64)] = "") -> RedirectResponse:
    """Give the suggestion to a reviewer (empty: to nobody)."""
    try:
        row = assign(store_of(request), suggestion_id, to.strip() or None, actor=viewer.actor,
                     expected_version=version)
    except ConflictError as exc:
        return flash(back(f"/suggestions/{suggestion_id}", f.params()), f"Conflict: {exc}", "error")
    return flash(back(f"/suggestions/{suggestion_id}", f.params()),
                 f"Suggestion #{row.id} assigned to {row.assignee or 'nobody'}.")


@router.post("/undo", dependencies=[Depends(csrf_protect)])
def undo(request: Request, viewer: Annotated[Viewer, Depends(_reviewer)]) -> RedirectResponse:
    """Undo this session's last decision: an accepted merge is unmerged exactly."""
    last = viewer.last_decision
    if not last:
        return flash(back("/queue"), "Nothing to undo in this session.", "error")
    sid = int(str(last.get("suggestion")))
    if last.get("action") == "defer":
        return flash(back(f"/suggestions/{sid}", {"status": "deferred"}),
                     f"Suggestion #{sid} is in the deferred queue: decide it again there.")
    if last.get("action") != "accept":
        return flash(back("/queue"), f"A rejection cannot be undone here: the records of suggestion #{sid} are "
                     "kept apart; merge the two golden records by hand if they are the same customer.", "error")
    try:
        done = unmerge(store_of(request), str(last["survivor"]), actor=viewer.actor,
                       change_id=int(str(last["change_id"])))
    except (ConflictError, NotFoundError, ReviewError) as exc:
        return flash(back("/queue"), f"Cannot undo: {exc}", "error")
    _remember(request, viewer, None)
    return flash(back("/queue"), f"Undone: merge #{done.change_id} reversed, {done.restored} restored next to "
                 f"{done.survivor}.", link=("Open the restored record", f"/golden/{done.restored}"))


@router.get("/bulk", response_class=HTMLResponse)
def bulk_preview(request: Request, viewer: Annotated[Viewer, Depends(_reviewer)],
                 min_score: str | None = None) -> HTMLResponse:
    """Preview accepting every pending suggestion at or above a score: what would change."""
    threshold = _score(min_score, "min_score")
    preview = preview_bulk_accept(store_of(request), threshold) if threshold is not None else None
    groups = list(preview.groups.items())[:100] if preview else []
    return render(request, "bulk.html", preview=preview, min_score=threshold, groups=groups)


@router.post("/bulk", dependencies=[Depends(csrf_protect)])
def bulk_apply(request: Request, viewer: Annotated[Viewer, Depends(_reviewer)],
               min_score: Annotated[float, Form(ge=0.0, le=1.0)], expected: Annotated[int, Form(ge=0)]
               ) -> RedirectResponse:
    """Accept what the preview showed; if the queue changed since, show the new preview instead."""
    store = store_of(request)
    preview = preview_bulk_accept(store, min_score)
    if len(preview.suggestion_ids) != expected:
        return flash(back("/bulk", {"min_score": min_score}), f"The queue changed since your preview "
                     f"({expected} → {len(preview.suggestion_ids)} suggestions); check the new preview.", "error")
    result = bulk_accept(store, preview, actor=viewer.actor, rules=project_of(request).survivorship.rules())
    return flash(back("/queue"), f"Bulk accept at {min_score}: {len(result.accepted)} accepted, "
                 f"{len(result.conflicts)} left alone (changed meanwhile).")
