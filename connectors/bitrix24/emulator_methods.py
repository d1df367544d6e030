"""The Bitrix24 emulator's CRM: contacts and the REST methods on them (contract §4), without HTTP.

A method takes its parameters (already decoded from JSON, a form or a batch command's query)
and returns `(status, body)` the way Bitrix24 answers: `{"result": ...}` or
`{"error": CODE, "error_description": text}`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["COMPANY_FIELDS", "CONTACT_FIELDS", "Companies", "Contacts", "Reply", "error"]

Reply = tuple[int, dict[str, Any]]
PAGE = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MULTI = ("PHONE", "EMAIL", "WEB", "IM")
CONTACT_FIELDS = ("ID", "NAME", "SECOND_NAME", "LAST_NAME", "POST", "COMMENTS", "ADDRESS", "ADDRESS_CITY",
                  "ADDRESS_PROVINCE", "ADDRESS_POSTAL_CODE", "ADDRESS_COUNTRY", "BIRTHDATE", "COMPANY_ID",
                  "SOURCE_ID", "ORIGINATOR_ID", "ORIGIN_ID", "DATE_CREATE", "DATE_MODIFY", "ASSIGNED_BY_ID",
                  *_MULTI)
COMPANY_FIELDS = ("ID", "TITLE", "COMPANY_TYPE", "INDUSTRY", "EMPLOYEES", "REVENUE", "COMMENTS", "ADDRESS",
                  "ADDRESS_CITY", "ADDRESS_PROVINCE", "ADDRESS_POSTAL_CODE", "ADDRESS_COUNTRY", "ORIGINATOR_ID",
                  "ORIGIN_ID", "DATE_CREATE", "DATE_MODIFY", "ASSIGNED_BY_ID", *_MULTI)
_READ_ONLY = frozenset({"ID", "DATE_CREATE", "DATE_MODIFY"})
_OPERATORS = (">=", "<=", "!@", "!=", "=%", ">", "<", "@", "%", "!", "=")


def error(code: str, description: str, status: int = 400) -> Reply:
    return status, {"error": code, "error_description": description}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _comparable(value: Any) -> Any:
    text = str(value if value is not None else "")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return text.lower()


@dataclass
class Contact:
    id: int
    fields: dict[str, Any]
    multi: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def view(self, select: list[str] | None, names_known: tuple[str, ...] = CONTACT_FIELDS) -> dict[str, Any]:
        names = select or ["*"]
        wanted = set(names_known) - set(_MULTI) if "*" in names else set(names)
        wanted |= {n for n in names if n in _MULTI}
        body = {k: v for k, v in self.fields.items() if k in wanted}
        body["ID"] = str(self.id)
        for kind in _MULTI:
            if kind in wanted and self.multi.get(kind):
                body[kind] = [dict(item) for item in self.multi[kind]]
        return body


class Contacts:
    """Every contact of one emulated portal, with the methods the writer and the source call."""

    ENTITY = "contact"
    FIELDS = CONTACT_FIELDS
    REQUIRED = ("NAME", "LAST_NAME")  # one of them

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.clear()

    def clear(self) -> None:
        self.items: dict[int, Contact] = {}
        self._next_id = 100
        self._next_item = 1000
        self._last = datetime(2000, 1, 1, tzinfo=UTC)

    def _now(self) -> datetime:
        now = self.clock().replace(microsecond=0)
        if now <= self._last:
            now = self._last + timedelta(seconds=1) if now < self._last else now
        self._last = now
        return now

    # ------------------------------------------------------------ validation and multi-fields

    def _check(self, fields: Any, *, creating: bool) -> str | None:
        if not isinstance(fields, dict):
            return "Parameter 'fields' must be an object"
        unknown = [k for k in fields if k not in self.FIELDS and not k.startswith("UF_")]
        if unknown:
            return f"Unknown field(s): {', '.join(unknown)}"
        if creating and not any(fields.get(name) for name in self.REQUIRED):
            return f"One of the fields is required: {' or '.join(self.REQUIRED)}"
        for item in fields.get("EMAIL") or []:
            value = (item or {}).get("VALUE") if isinstance(item, dict) else None
            if value and not _EMAIL.match(str(value)):
                return f"Invalid e-mail address: {value}"
        return None

    def _apply_multi(self, contact: Contact, kind: str, items: Any) -> None:
        """Items with an ID change (or, with an empty VALUE, delete) that item; items without one are added."""
        current = contact.multi.setdefault(kind, [])
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            item_id, value = str(item.get("ID") or ""), str(item.get("VALUE") or "")
            existing = next((c for c in current if c["ID"] == item_id), None) if item_id else None
            if existing is not None and not value:
                current.remove(existing)
            elif existing is not None:
                existing.update(VALUE=value, VALUE_TYPE=str(item.get("VALUE_TYPE") or existing["VALUE_TYPE"]))
            elif value:
                self._next_item += 1
                current.append({"ID": str(self._next_item), "VALUE_TYPE": str(item.get("VALUE_TYPE") or "WORK"),
                                "VALUE": value, "TYPE_ID": kind})

    def _write(self, contact: Contact, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            if name in _MULTI:
                self._apply_multi(contact, name, value)
            elif name not in _READ_ONLY:
                contact.fields[name] = "" if value is None else str(value)
        contact.fields["DATE_MODIFY"] = _stamp(self._now())

    # ------------------------------------------------------------ methods

    def add(self, params: dict[str, Any]) -> Reply:
        fields = params.get("fields")
        problem = self._check(fields, creating=True)
        if problem:
            return error("", problem)
        self._next_id += 1
        now = _stamp(self._now())
        contact = Contact(self._next_id, {"DATE_CREATE": now})
        self._write(contact, fields)
        self.items[contact.id] = contact
        return 200, {"result": contact.id}

    def _find(self, params: dict[str, Any]) -> Contact | None:
        try:
            return self.items.get(int(str(params.get("id") or params.get("ID") or "0")))
        except ValueError:
            return None

    def update(self, params: dict[str, Any]) -> Reply:
        contact = self._find(params)
        if contact is None:
            return error("", "Not found")
        fields = params.get("fields")
        problem = self._check(fields, creating=False)
        if problem:
            return error("", problem)
        self._write(contact, fields)
        return 200, {"result": True}

    def get(self, params: dict[str, Any]) -> Reply:
        contact = self._find(params)
        if contact is None:
            return error("", "Not found")
        return 200, {"result": contact.view(["*", *_MULTI], self.FIELDS)}

    def delete(self, params: dict[str, Any]) -> Reply:
        contact = self._find(params)
        if contact is None:
            return error("", "Not found")
        del self.items[contact.id]
        return 200, {"result": True}

    def fields(self, params: dict[str, Any]) -> Reply:
        return 200, {"result": {name: {"type": "crm_multifield" if name in _MULTI else "string",
                                       "isReadOnly": name in _READ_ONLY, "isMultiple": name in _MULTI}
                                for name in self.FIELDS}}

    def _matches(self, contact: Contact, key: str, expected: Any) -> bool:
        op = next((o for o in _OPERATORS if key.startswith(o)), "")
        name = key[len(op):]
        if name in _MULTI:  # multi-fields: exact match on any item only
            values = {i["VALUE"].lower() for i in contact.multi.get(name, [])}
            wanted = expected if isinstance(expected, list) else [expected]
            return any(str(w).lower() in values for w in wanted)
        held = str(contact.id) if name == "ID" else contact.fields.get(name)
        if op in ("@", "!@"):
            inside = str(held) in {str(v) for v in (expected if isinstance(expected, list) else [expected])}
            return inside if op == "@" else not inside
        if op in ("%", "=%"):
            return held is not None and str(expected).strip("%").lower() in str(held).lower()
        mine, other = _comparable(held), _comparable(expected)
        if type(mine) is not type(other):
            return op in ("!", "!=")
        return {"": mine == other, "=": mine == other, "!": mine != other, "!=": mine != other, ">": mine > other,
                ">=": mine >= other, "<": mine < other, "<=": mine <= other}[op]

    def list(self, params: dict[str, Any]) -> Reply:
        filters = params.get("filter") or {}
        if not isinstance(filters, dict) or "logic" in {k.lower() for k in filters}:
            return error("", "Filter must be an object of FIELD conditions (there is no 'logic' key)")
        hits = [c for c in self.items.values() if all(self._matches(c, k, v) for k, v in filters.items())]
        order = params.get("order") or {"ID": "ASC"}
        hits.sort(key=lambda c: c.id)
        for name, direction in reversed(list(order.items()) if isinstance(order, dict) else []):
            hits.sort(key=lambda c, n=name: _comparable(str(c.id) if n == "ID" else c.fields.get(n, "")),
                      reverse=str(direction).upper() == "DESC")
        start = int(str(params.get("start") or "0"))
        offset = max(start, 0)
        select = params.get("select")
        page = hits[offset:offset + PAGE]
        body: dict[str, Any] = {"result": [c.view(select if isinstance(select, list) else None, self.FIELDS)
                                           for c in page]}
        if start != -1:
            body["total"] = len(hits)
            if offset + PAGE < len(hits):
                body["next"] = offset + PAGE
        return 200, body

    def find_by_comm(self, params: dict[str, Any]) -> Reply:
        kind = str(params.get("type") or "").upper()
        values = params.get("values") or []
        if kind not in ("EMAIL", "PHONE") or not isinstance(values, list):
            return error("", "Parameter 'type' must be EMAIL or PHONE and 'values' a list")
        if len(values) > 20:
            return error("", "Too many values: at most 20")
        wanted = {str(v).lower() for v in values}
        ids = sorted(c.id for c in self.items.values()
                     if any(i["VALUE"].lower() in wanted for i in c.multi.get(kind, [])))[:20]
        return 200, {"result": {"CONTACT": ids} if ids else []}

    WRITES = frozenset({"crm.contact.add", "crm.contact.update", "crm.contact.delete"})

    def methods(self) -> dict[str, str]:
        """REST method name → handler name, for this entity type."""
        verbs = {f"crm.{self.ENTITY}.{verb}": verb for verb in ("add", "update", "get", "delete", "list", "fields")}
        if self.ENTITY == "contact":
            verbs["crm.duplicate.findbycomm"] = "find_by_comm"
        return verbs

    def call(self, method: str, params: dict[str, Any]) -> Reply:
        name = self.methods().get(method.lower())
        if name is None:
            return error("ERROR_METHOD_NOT_FOUND", f"Method not found: {method}", 404)
        with self.lock:
            reply: Reply = getattr(self, name)(params)
            return reply


class Companies(Contacts):
    """Every company of the portal: the same methods as contacts (`crm.company.*`), TITLE required."""

    ENTITY = "company"
    FIELDS = COMPANY_FIELDS
    REQUIRED = ("TITLE",)
    WRITES = frozenset({"crm.company.add", "crm.company.update", "crm.company.delete"})
