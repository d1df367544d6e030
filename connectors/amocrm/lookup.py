"""Finding the contact that already holds a golden record, before creating one (amoCRM has no upsert).

Two ways, chosen by the destination's `lookup` option:

- `scan` (the default): the first create of a run reads the whole account once (250 contacts a
  request) into an index of our key → contact and e-mail/phone → contacts people made; before
  each later batch it reads only what changed since (`filter[updated_at][from]`, usually one
  request). Cheap for a migration or a big push: N new records cost N/50 + accounts/250 requests.
- `query`: one `query=<golden id>` request per record, plus one per e-mail/phone when `match_by`
  asks. Cheaper only when an account of millions of contacts gets a handful of new records.

Both find what a crashed run created but never recorded, because that contact carries our key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.amocrm.client import AmoClient

__all__ = ["ARCHIVED_TAG", "ERASED_TAG", "RETIRED_TAGS", "AccountIndex", "Holder", "holds", "tags_of"]

ARCHIVED_TAG = "crmsync-archived"
ERASED_TAG = "crmsync-erased"
RETIRED_TAGS = frozenset({ARCHIVED_TAG, ERASED_TAG})


def holds(record: Mapping[str, Any], *, field_id: int | None = None, code: str | None = None) -> set[str]:
    """The values (lower-cased) a record holds in one custom field, by id or code."""
    return {str(v.get("value", "")).strip().lower() for f in record.get("custom_fields_values") or []
            if (field_id is not None and f.get("field_id") == field_id) or (code and f.get("field_code") == code)
            for v in f.get("values") or []}


def tags_of(record: Mapping[str, Any]) -> set[str]:
    """The names of a record's tags."""
    return {str(t.get("name")) for t in (record.get("_embedded") or {}).get("tags") or []}


@dataclass
class Holder:
    """What the index keeps of one contact."""

    keys: set[str]
    identities: set[str]  # "EMAIL:a@b.c", "PHONE:+7999…"
    retired: bool


@dataclass
class AccountIndex:
    """Contacts of one account by our key and by e-mail/phone, kept fresh by `updated_at`."""

    client: AmoClient
    entity: str
    key_field: Callable[[], int]
    page_size: int = 250
    holders: dict[str, Holder] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    by_identity: dict[str, set[str]] = field(default_factory=dict)
    seen_until: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _forget(self, remote_id: str) -> None:
        old = self.holders.pop(remote_id, None)
        if old is None:
            return
        for key in old.keys:
            if self.by_key.get(key) == remote_id:
                del self.by_key[key]
        for identity in old.identities:
            self.by_identity.get(identity, set()).discard(remote_id)

    def note(self, record: Mapping[str, Any]) -> None:
        """Index one contact as amoCRM returned it (replacing what was known of it)."""
        remote_id = str(record["id"])
        self._forget(remote_id)
        keys = holds(record, field_id=self.key_field())
        identities = {f"{code}:{value}" for code in ("EMAIL", "PHONE") for value in holds(record, code=code)}
        holder = Holder(keys, identities, bool(tags_of(record) & RETIRED_TAGS))
        self.holders[remote_id] = holder
        for key in keys:
            current = self.by_key.get(key)
            self.by_key[key] = remote_id if current is None else str(min(int(current), int(remote_id)))
        for identity in identities:
            self.by_identity.setdefault(identity, set()).add(remote_id)
        moment = int(record.get("updated_at") or 0)
        self.seen_until = moment if self.seen_until is None else max(self.seen_until, moment)

    def note_created(self, remote_id: str, key: str, identities: Iterable[str]) -> None:
        """A contact this writer just made (before amoCRM's list shows it)."""
        with self._lock:
            self.holders[remote_id] = Holder({key.lower()}, set(identities), False)
            self.by_key[key.lower()] = remote_id

    def refresh(self) -> None:
        """Read the whole account the first time, then what changed since the last read."""
        with self._lock:
            # `from` is inclusive: records sharing the last second seen are read again, never missed
            for record in self.client.changed_since(self.entity, self.seen_until, self.page_size):
                self.note(record)

    def find(self, key: str, identities: Iterable[str], taken: set[str]) -> str | None:
        """Ours by key; else a contact a person made (no key of ours, not retired) holding an identity,
        which is then claimed for `key`."""
        with self._lock:
            ours = self.by_key.get(key.lower())
            if ours is not None:
                return ours
            for identity in identities:
                for remote_id in sorted(self.by_identity.get(identity, ()), key=int):
                    holder = self.holders[remote_id]
                    if remote_id not in taken and not holder.keys and not holder.retired:
                        holder.keys.add(key.lower())  # claimed now, so a concurrent batch cannot take it too
                        self.by_key[key.lower()] = remote_id
                        return remote_id
        return None
