"""The HubSpot emulator's in-memory CRM: objects, properties, search and batch semantics (contract §1).

No HTTP here: each operation returns `(status, body)` the way HubSpot answers it, and the server
in `emulator.py` only adds auth, rate limits and faults. The caller holds `CrmData.lock`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["CrmData", "HsObject", "ObjectType", "OBJECT_TYPES", "Reply", "error_body", "iso"]

Reply = tuple[int, dict[str, Any] | None]
BATCH_LIMIT = 100
SEARCH_CAP = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_READ_ONLY = frozenset({"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate"})


def iso(moment: datetime) -> str:
    """HubSpot's v3 timestamp form: ISO-8601 with milliseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's standard error body."""
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}


@dataclass(frozen=True)
class ObjectType:
    """What differs between contacts and companies."""

    name: str
    modified_property: str
    unique: tuple[str, ...]  # properties whose values identify one object
    defaults: tuple[str, ...]  # returned when the request names no properties
    known: frozenset[str]


_CONTACT_PROPS = frozenset({
    "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "address", "city",
    "state", "zip", "country", "date_of_birth", "hs_language", "website", "lifecyclestage", "fax",
    "salutation", "hs_additional_emails", "hs_object_id", "createdate", "lastmodifieddate",
    "hs_email_optout", "hs_whatsapp_phone_number", "industry", "annualrevenue",
})
_COMPANY_PROPS = frozenset({
    "name", "domain", "phone", "address", "city", "state", "zip", "country", "industry", "website",
    "description", "hs_object_id", "createdate", "hs_lastmodifieddate", "numberofemployees",
})
OBJECT_TYPES = {
    "contacts": ObjectType("contacts", "lastmodifieddate", ("email",),
                           ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                           _CONTACT_PROPS),
    "companies": ObjectType("companies", "hs_lastmodifieddate", (),
                            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
                            _COMPANY_PROPS),
}


@dataclass
class HsObject:
    """One stored CRM object; property values are strings, as HubSpot returns them."""

    id: str
    properties: dict[str, str]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None
    merged_into: str | None = None
    merged_ids: list[str] = field(default_factory=list)

    def view(self, names: Iterable[str] | None, kind: ObjectType) -> dict[str, Any]:
        wanted = list(names) if names else list(kind.defaults)
        for always in ("hs_object_id", "createdate", kind.modified_property):
            if always not in wanted:
                wanted.append(always)
        body: dict[str, Any] = {"id": self.id, "properties": {n: self.properties.get(n) for n in wanted},
                                "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
                                "archived": self.archived}
        if self.archived_at is not None:
            body["archivedAt"] = iso(self.archived_at)
        return body


class CrmData:
    """Every object of one emulated portal, with the writes HubSpot allows."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.clear()

    def clear(self) -> None:
        """Forget every object and custom property."""
        self.objects: dict[str, dict[str, HsObject]] = {name: {} for name in OBJECT_TYPES}
        self.custom: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in OBJECT_TYPES}
        # (property, value) → object id for every unique property, so writes stay O(1) at 100k objects
        self._index: dict[str, dict[tuple[str, str], str]] = {name: {} for name in OBJECT_TYPES}
        self._indexed: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._next_id = 500
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)

    # ------------------------------------------------------------ helpers

    def kind(self, name: str) -> ObjectType:
        return OBJECT_TYPES[name]

    def _now(self) -> datetime:
        # strictly increasing stamps keep "modified since" reads exact in tests
        now = self.clock()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def unique_properties(self, obj: str) -> tuple[str, ...]:
        custom = tuple(n for n, p in self.custom[obj].items() if p.get("hasUniqueValue"))
        return self.kind(obj).unique + custom

    def known(self, obj: str, name: str) -> bool:
        return name in self.kind(obj).known or name in self.custom[obj]

    def live(self, obj: str) -> list[HsObject]:
        return [o for o in self.objects[obj].values() if not o.archived and o.merged_into is None]

    def get(self, obj: str, object_id: str, *, follow_merges: bool = True) -> HsObject | None:
        found = self.objects[obj].get(object_id)
        while follow_merges and found is not None and found.merged_into is not None:
            found = self.objects[obj].get(found.merged_into)
        return found

    def find_unique(self, obj: str, prop: str, value: str) -> HsObject | None:
        """The live object holding `value` in a unique property (e-mails compare case-insensitively)."""
        wanted = value.strip().lower() if prop == "email" else value
        found = self.objects[obj].get(self._index[obj].get((prop, wanted), ""))
        return found if found is not None and not found.archived and found.merged_into is None else None

    def _keys(self, obj: str, item: HsObject) -> list[tuple[str, str]]:
        if item.archived or item.merged_into is not None:
            return []
        keys = []
        for prop in self.unique_properties(obj):
            value = item.properties.get(prop)
            if value:
                keys.append((prop, value.lower() if prop == "email" else value))
        if obj == "contacts":  # after a merge, the other contact's e-mails still find the survivor
            keys += [("email", e.lower()) for e in (item.properties.get("hs_additional_emails") or "").split(";") if e]
        return keys

    def _unindex(self, obj: str, item: HsObject) -> None:
        for key in self._indexed.pop((obj, item.id), []):
            if self._index[obj].get(key) == item.id:
                del self._index[obj][key]

    def _reindex(self, obj: str, item: HsObject) -> None:
        self._unindex(obj, item)
        keys = self._keys(obj, item)
        self._indexed[(obj, item.id)] = keys
        for key in keys:
            self._index[obj].setdefault(key, item.id)

    def add_unique_property(self, obj: str, name: str, definition: dict[str, Any]) -> None:
        """Register a custom property; a unique one is indexed over the objects already stored."""
        self.custom[obj][name] = definition
        for item in self.objects[obj].values():
            self._reindex(obj, item)

    def validate(self, obj: str, properties: Any, *, existing: HsObject | None = None) -> dict[str, Any] | None:
        """None if the properties may be written, else HubSpot's error for them."""
        if not isinstance(properties, dict):
            return error_body("Invalid input JSON: `properties` must be an object", "VALIDATION_ERROR")
        problems = []
        for name, value in properties.items():
            if not self.known(obj, name):
                problems.append({"isValid": False, "message": f'Property "{name}" does not exist',
                                 "error": "PROPERTY_DOESNT_EXIST", "name": name})
            elif name in _READ_ONLY:
                problems.append({"isValid": False, "message": f'"{name}" is a read only property; its value '
                                 "cannot be set.", "error": "READ_ONLY_VALUE", "name": name})
            elif name == "email" and value not in (None, "") and not _EMAIL.match(str(value)):
                problems.append({"isValid": False, "message": f"Email address {value} is invalid",
                                 "error": "INVALID_EMAIL", "name": name})
        if problems:
            return error_body(f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR",
                              errors=[{"message": p["message"], "code": p["error"], "context": {"propertyName":
                                       [p["name"]]}} for p in problems])
        for prop in self.unique_properties(obj):
            value = properties.get(prop)
            if value in (None, ""):
                continue
            holder = self.find_unique(obj, prop, str(value))
            if holder is not None and (existing is None or holder.id != existing.id):
                noun = "Contact" if obj == "contacts" else "Object"
                return error_body(f"{noun} already exists. Existing ID: {holder.id}", "CONFLICT",
                                  context={"existingId": [holder.id], "propertyName": [prop]})
        return None

    @staticmethod
    def _clean(properties: dict[str, Any]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name, value in properties.items():
            if value is None or value == "":
                out[name] = None
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            else:
                out[name] = str(value).strip().lower() if name == "email" else str(value)
        return out

    # ------------------------------------------------------------ writes

    def create(self, obj: str, properties: dict[str, Any]) -> HsObject:
        """Store a new object (already validated)."""
        now = self._now()
        self._next_id += 1
        object_id = str(self._next_id)
        values = {k: v for k, v in self._clean(properties).items() if v is not None}
        values.update({"hs_object_id": object_id, "createdate": iso(now), self.kind(obj).modified_property: iso(now)})
        item = HsObject(object_id, values, now, now)
        self.objects[obj][object_id] = item
        self._reindex(obj, item)
        return item

    def update(self, obj: str, item: HsObject, properties: dict[str, Any]) -> HsObject:
        """Apply new property values (already validated); a write that changes nothing keeps the stamp."""
        changed = False
        for name, value in self._clean(properties).items():
            if item.properties.get(name) != value:
                changed = True
                if value is None:
                    item.properties.pop(name, None)
                else:
                    item.properties[name] = value
        if changed:
            now = self._now()
            item.updated_at = now
            item.properties[self.kind(obj).modified_property] = iso(now)
            self._reindex(obj, item)
        return item

    def archive(self, obj: str, item: HsObject) -> None:
        if not item.archived:
            now = self._now()
            item.archived, item.archived_at, item.updated_at = True, now, now
            self._unindex(obj, item)

    def merge(self, obj: str, primary: HsObject, secondary: HsObject) -> HsObject:
        """Merge `secondary` into `primary`: the primary's values win, blanks are filled, e-mails kept."""
        for name, value in secondary.properties.items():
            if name in _READ_ONLY or name == "email":
                continue
            primary.properties.setdefault(name, value)
        extra = [e for e in (primary.properties.get("hs_additional_emails") or "").split(";") if e]
        for email in [secondary.properties.get("email"),
                      *(secondary.properties.get("hs_additional_emails") or "").split(";")]:
            if email and email != primary.properties.get("email") and email not in extra:
                extra.append(email)
        if extra:
            primary.properties["hs_additional_emails"] = ";".join(extra)
        secondary.merged_into = primary.id
        primary.merged_ids.extend([secondary.id, *secondary.merged_ids])
        now = self._now()
        primary.updated_at = now
        primary.properties[self.kind(obj).modified_property] = iso(now)
        self._unindex(obj, secondary)
        self._reindex(obj, primary)
        return primary

    def purge(self, obj: str, item: HsObject) -> None:
        """GDPR delete: the object and everything merged into it are gone for good."""
        for object_id in [item.id, *item.merged_ids]:
            gone = self.objects[obj].pop(object_id, None)
            if gone is not None:
                self._unindex(obj, gone)

