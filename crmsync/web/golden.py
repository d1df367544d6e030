"""The golden record page: values with provenance, history, source records and interactions; admin actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crmsync.web.auth import Viewer, csrf_protect, require_role
from crmsync.web.pages import back, flash, project_of, render, store_of
from dedupe.survivorship import FIELD_KINDS
from sync.review import (
    ConflictError,
    NotFoundError,
    ReviewError,
    erase,
    pin,
    preview_erasure,
    show_golden,
    unmerge,
    unpin,
)
from sync.store.dashboard import interactions_of_golden

__all__ = ["router"]

router = APIRouter()
_viewer = require_role("viewer")
_admin = require_role("admin")
_EMPTY = (None, "", [], {})


def _values(fields: dict[str, Any], provenance: dict[str, Any], pins: set[str]) -> list[dict[str, Any]]:
    rows = []
    for name, value in fields.items():
        parts = sorted(value.items()) if isinstance(value, dict) and FIELD_KINDS.get(name) == "group" else [
            (None, value)]
        for key, part in parts:
            path = f"{name}.{key}" if key else name
            if part in _EMPTY:
                continue
            origin = provenance.get(path) or {}
            if origin.get("source") == "pin":
                where = f"pinned by {origin.get('pinned_by')}"
            elif origin:
                where = f"{origin.get('source')}/{origin.get('stream')}/{origin.get('source_record_id')}"
            else:
                where = ""
            rows.append({"path": path, "value": part, "from": where, "rule": origin.get("rule"),
                         "updated": str(origin.get("updated_at") or "")[:10], "pinned": path in pins})
    return rows


def _changed(entry: Any) -> str:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) not in _EMPTY or after.get(k) not in _EMPTY]
    return ", ".join(keys)


@router.get("/golden/{golden_id}", response_class=HTMLResponse)
def golden_page(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_viewer)]) -> HTMLResponse:
    """One golden record and everything that explains it."""
    store = store_of(request)
    try:
        view = show_golden(store, golden_id, history=200)
    except NotFoundError as exc:
        return render(request, "missing.html", status_code=404, message=str(exc))
    with store.session() as session:
        interactions = interactions_of_golden(session, golden_id)
    history = [{"e": e, "changed": _changed(e)} for e in reversed(view.history)]  # newest first
    open_merges = [c for c in view.changes if c.kind == "merge" and c.golden_id == golden_id and not c.undone_at]
    pinnable = [k for k in FIELD_KINDS if k != "sources" and FIELD_KINDS[k] != "group"]
    return render(request, "golden.html", v=view, g=view.golden,
                  values=_values(view.golden.fields, view.golden.provenance, set(view.pins)),
                  history=history, interactions=interactions, latest_merge=open_merges[-1] if open_merges else None,
                  pinnable=pinnable)


def _guard(golden_id: str, action: str) -> Any:
    def wrap(exc: Exception) -> RedirectResponse:
        return flash(back(f"/golden/{golden_id}"), f"Could not {action}: {exc}", "error")
    return wrap


@router.post("/golden/{golden_id}/unmerge", dependencies=[Depends(csrf_protect)])
def unmerge_golden(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_admin)],
                   change_id: Annotated[int | None, Form()] = None) -> RedirectResponse:
    """Undo the latest merge into this record, exactly."""
    try:
        done = unmerge(store_of(request), golden_id, actor=viewer.actor, change_id=change_id)
    except (ConflictError, NotFoundError, ReviewError) as exc:
        return _guard(golden_id, "unmerge")(exc)
    return flash(back(f"/golden/{golden_id}"), f"Merge #{done.change_id} undone: {done.restored} restored.",
                 link=("Open the restored record", f"/golden/{done.restored}"))


@router.post("/golden/{golden_id}/pin", dependencies=[Depends(csrf_protect)])
def pin_value(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_admin)],
              field: Annotated[str, Form(max_length=64)], value: Annotated[str, Form(max_length=1000)],
              reason: Annotated[str, Form(max_length=500)] = "") -> RedirectResponse:
    """Pin a field to a value: it wins over every source until unpinned."""
    try:
        pin(store_of(request), golden_id, field.strip(), value, actor=viewer.actor,
            rules=project_of(request).survivorship.rules(), reason=reason.strip() or None)
    except (ConflictError, NotFoundError, ReviewError) as exc:
        return _guard(golden_id, f"pin {field}")(exc)
    return flash(back(f"/golden/{golden_id}"), f"Pinned {field}.")


@router.post("/golden/{golden_id}/unpin", dependencies=[Depends(csrf_protect)])
def unpin_value(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_admin)],
                field: Annotated[str, Form(max_length=64)]) -> RedirectResponse:
    """Remove a pin: the field follows its survivorship rule again."""
    try:
        unpin(store_of(request), golden_id, field, actor=viewer.actor, rules=project_of(request).survivorship.rules())
    except (ConflictError, NotFoundError, ReviewError) as exc:
        return _guard(golden_id, f"unpin {field}")(exc)
    return flash(back(f"/golden/{golden_id}"), f"Unpinned {field}.")


@router.get("/golden/{golden_id}/erase", response_class=HTMLResponse)
def erase_confirm(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_admin)]) -> HTMLResponse:
    """What erasing this person would remove, and the confirmation form."""
    project = project_of(request)
    try:
        preview = preview_erasure(store_of(request), golden_ids=[golden_id],
                                  phone_region=project.defaults.phone_region)
    except (NotFoundError, ReviewError) as exc:
        return render(request, "missing.html", status_code=404, message=str(exc))
    return render(request, "erase.html", golden_id=golden_id, p=preview)


@router.post("/golden/{golden_id}/erase", dependencies=[Depends(csrf_protect)])
def erase_golden(request: Request, golden_id: str, viewer: Annotated[Viewer, Depends(_admin)],
                 confirm: Annotated[str, Form(max_length=64)] = "",
                 reason: Annotated[str, Form(max_length=500)] = "") -> RedirectResponse:
    """Erase the person (GDPR) once the admin typed the record's id to confirm."""
    if confirm.strip() != golden_id:
        return flash(back(f"/golden/{golden_id}/erase"), "Type the golden record's id exactly to confirm the "
                     "erasure; nothing was erased.", "error")
    try:
        result = erase(store_of(request), actor=viewer.actor, golden_ids=[golden_id], reason=reason.strip() or None,
                       phone_region=project_of(request).defaults.phone_region)
    except (ConflictError, NotFoundError, ReviewError) as exc:
        return _guard(golden_id, "erase")(exc)
    return flash(back("/queue"), f"Erased everywhere: receipt {result.receipt_id}; "
                 f"{result.destination_actions} deletion(s) queued at destinations.")
