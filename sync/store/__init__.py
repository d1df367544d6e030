"""The store: the only package that touches the database (SQLAlchemy models, Alembic, repositories).

Repository functions take a Session and never commit; open one with `Store.session()`.
"""

from __future__ import annotations

from sync.store.audit import append_audit, query_audit
from sync.store.engine import (
    DATABASE_URL_ENV,
    NotFoundError,
    Store,
    StoreError,
    current_revision,
    default_database_url,
    head_revision,
    make_engine,
    open_store,
    safe_url,
    upgrade,
)
from sync.store.golden import (
    count_golden,
    current_links,
    delete_links_for_missing,
    load_customer_records,
    load_golden,
    retire_golden,
    save_golden,
    set_links,
)
from sync.store.records import (
    all_states,
    attach_interactions,
    get_state,
    mark_missing_deleted,
    open_quarantine,
    quarantine_rows,
    resolve_missing_quarantine,
    save_state,
    upsert_interactions,
    upsert_source_records,
)
from sync.store.runs import finish_run, get_run, mark_stale_runs_crashed, recent_runs, start_run
from sync.store.suggestions import (
    SuggestionIn,
    add_cannot_link,
    load_cannot_links,
    replace_pending_suggestions,
)
from sync.store.types import (
    AuditEntry,
    GoldenRow,
    InteractionIndexIn,
    LinkIn,
    QuarantineIn,
    QuarantineRow,
    RunRow,
    SourceKey,
    SourceRecordIn,
    StoredCustomer,
    UpsertCounts,
)

__all__ = [
    "SuggestionIn",
    "add_cannot_link",
    "load_cannot_links",
    "replace_pending_suggestions",
    "DATABASE_URL_ENV",
    "AuditEntry",
    "GoldenRow",
    "InteractionIndexIn",
    "LinkIn",
    "NotFoundError",
    "QuarantineIn",
    "QuarantineRow",
    "RunRow",
    "SourceKey",
    "SourceRecordIn",
    "Store",
    "StoreError",
    "StoredCustomer",
    "UpsertCounts",
    "all_states",
    "append_audit",
    "attach_interactions",
    "count_golden",
    "current_links",
    "current_revision",
    "default_database_url",
    "delete_links_for_missing",
    "finish_run",
    "get_run",
    "get_state",
    "head_revision",
    "load_customer_records",
    "load_golden",
    "make_engine",
    "mark_missing_deleted",
    "mark_stale_runs_crashed",
    "open_quarantine",
    "open_store",
    "query_audit",
    "quarantine_rows",
    "recent_runs",
    "resolve_missing_quarantine",
    "retire_golden",
    "safe_url",
    "save_golden",
    "save_state",
    "set_links",
    "start_run",
    "upgrade",
    "upsert_interactions",
    "upsert_source_records",
]

from sync.store.inbox import (  # noqa: E402  (appended: the web-form inbox)
    InboxAdd,
    InboxRow,
    InboxSubmissionIn,
    add_submissions,
    count_submissions,
    inbox_sources,
    open_durable_store,
    read_submissions,
)

__all__ += [
    "InboxAdd",
    "InboxRow",
    "InboxSubmissionIn",
    "add_submissions",
    "count_submissions",
    "inbox_sources",
    "open_durable_store",
    "read_submissions",
]

# Push bookkeeping (sync.store.push): destination xrefs, dead letters, push audit.
from sync.store.push import (  # noqa: E402
    ERASE_ACTION,
    DeadLetterRow,
    PushedRecord,
    XrefRow,
    audit_remote_change,
    clear_pushed_hash,
    dead_letter,
    delete_xref,
    erased_golden_ids,
    golden_status,
    load_dead_letters,
    load_xrefs,
    move_xref,
    record_pushes,
    resolve_dead_letters,
    survivors_of,
)

__all__ += [
    "ERASE_ACTION",
    "DeadLetterRow",
    "PushedRecord",
    "XrefRow",
    "audit_remote_change",
    "clear_pushed_hash",
    "dead_letter",
    "delete_xref",
    "erased_golden_ids",
    "golden_status",
    "load_dead_letters",
    "load_xrefs",
    "move_xref",
    "record_pushes",
    "resolve_dead_letters",
    "survivors_of",
]
