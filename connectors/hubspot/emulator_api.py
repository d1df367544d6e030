"""The HubSpot emulator's endpoints: list, read, search, batch writes, merge and properties (contract §1).

Each handler takes the parsed request and returns `(status, body)`; `emulator.py` routes to them.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from connectors.hubspot.emulator_data import BATCH_LIMIT, SEARCH_CAP, CrmData, HsObject, Reply, error_body, iso

__all__ = ["BatchMode", "HubSpotApi"]

BatchMode = str  # "per_record" (207 multi-status) or "whole_batch" (one bad input fails the call)
_DATES = frozenset({"createdate", "lastmodifieddate", "hs_lastmodifieddate"})
_MAX_GROUPS, _MAX_FILTERS_PER_GROUP, _MAX_FILTERS = 5, 10, 25


def _bad(message: str) -> Reply:
    return 400, error_body(message, "VALIDATION_ERROR")


def _cursor(object_id: str) -> str:
    return base64.urlsafe_b64encode(f"id:{object_id}".encode()).decode().rstrip("=")


def _uncursor(after: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
        return int(text.removeprefix("id:"))
    except (ValueError, UnicodeDecodeError):
        return None


def _epoch_ms(value: Any) -> float | None:
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return float(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() * 1000


def _comparable(prop: str, value: Any) -> Any:
    if value is None:
        return None
    if prop in _DATES:
        return _epoch_ms(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return text.lower()


def _matches(item: HsObject, flt: dict[str, Any]) -> bool:
    prop, op = flt.get("propertyName"), str(flt.get("operator", "EQ")).upper()
    held = item.properties.get(prop) if prop != "hs_object_id" else item.id
    if op == "HAS_PROPERTY":
        return held not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return held in (None, "")
    mine = _comparable(prop, held)
    if op in ("IN", "NOT_IN"):
        inside = mine in {_comparable(prop, v) for v in flt.get("values") or []}
        return inside if op == "IN" else not inside
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value", "")).lower().strip("*")
        found = held is not None and token in str(held).lower()
        return found if op == "CONTAINS_TOKEN" else not found
    other = _comparable(prop, flt.get("value"))
    if op == "NEQ":
        return mine != other
    if mine is None or other is None or type(mine) is not type(other):
        return False
    if op == "BETWEEN":
        high = _comparable(prop, flt.get("highValue"))
        return high is not None and type(high) is type(mine) and other <= mine <= high
    checks = {"EQ": mine == other, "LT": mine < other, "LTE": mine <= other, "GT": mine > other,
              "GTE": mine >= other}
    return checks.get(op, False)


def _sort_key(item: HsObject, prop: str) -> tuple[bool, bool, Any]:
    value = _comparable(prop, item.id if prop == "hs_object_id" else item.properties.get(prop))
    return (value is None, isinstance(value, str), value if value is not None else 0)


class HubSpotApi:
    """The endpoint semantics over one `CrmData`."""

    def __init__(self, data: CrmData, batch_mode: BatchMode = "per_record") -> None:
        self.data = data
        self.batch_mode = batch_mode

    # ------------------------------------------------------------ reads

    def list(self, obj: str, query: dict[str, str]) -> Reply:
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return _bad(f"limit must be a whole number, not {query.get('limit')!r}")
        if not 1 <= limit <= 100:
            return _bad(f"limit {limit} is out of range: use 1 to 100")
        archived = query.get("archived", "false").lower() == "true"
        names = [n for n in query.get("properties", "").split(",") if n] or None
        start = 0
        if query.get("after"):
            start_id = _uncursor(query["after"])
            if start_id is None:
                return _bad(f"after={query['after']!r} is not a cursor this API returned")
            start = start_id
        kind = self.data.kind(obj)
        pool = sorted((o for o in self.data.objects[obj].values()
                       if o.merged_into is None and o.archived == archived and int(o.id) >= start),
                      key=lambda o: int(o.id))
        page = pool[:limit]
        body: dict[str, Any] = {"results": [o.view(names, kind) for o in page]}
        if len(pool) > limit:
            after = _cursor(pool[limit].id)
            body["paging"] = {"next": {"after": after, "link": f"/crm/v3/objects/{obj}?after={after}"}}
        return 200, body

    def get(self, obj: str, object_id: str, query: dict[str, str]) -> Reply:
        id_property = query.get("idProperty")
        if id_property:
            if id_property not in self.data.unique_properties(obj):
                return _bad(f"idProperty {id_property!r} is not a unique property of {obj}")
            item = self.data.find_unique(obj, id_property, object_id)
        else:
            item = self.data.get(obj, object_id)
        archived = query.get("archived", "false").lower() == "true"
        if item is None or item.archived != archived:
            return 404, error_body(f"resource not found: {obj} {object_id}", "OBJECT_NOT_FOUND")
        names = [n for n in query.get("properties", "").split(",") if n] or None
        return 200, item.view(names, self.data.kind(obj))

    def search(self, obj: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            return _bad("Invalid input JSON: the search body must be an object")
        groups = body.get("filterGroups") or []
        if len(groups) > _MAX_GROUPS or any(len(g.get("filters") or []) > _MAX_FILTERS_PER_GROUP for g in groups) \
                or sum(len(g.get("filters") or []) for g in groups) > _MAX_FILTERS:
            return _bad(f"too many filters: at most {_MAX_GROUPS} filterGroups, {_MAX_FILTERS_PER_GROUP} "
                        f"filters per group and {_MAX_FILTERS} filters in total")
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= 200:
            return _bad(f"limit {limit} is out of range: use 1 to 200")
        offset = int(body.get("after") or 0)
        if offset >= SEARCH_CAP:
            return _bad(f"Search results are limited to {SEARCH_CAP} records; narrow the query "
                        "(for example with a greater-than filter on hs_object_id) to page further")
        hits = [o for o in self.data.live(obj)
                if not groups or any(all(_matches(o, f) for f in g.get("filters") or []) for g in groups)]
        text = str(body.get("query") or "").strip().lower()
        if text:
            hits = [o for o in hits if any(text in (v or "").lower() for v in o.properties.values())]
        hits.sort(key=lambda o: int(o.id))
        for sort in reversed(body.get("sorts") or []):
            prop = sort.get("propertyName", "hs_object_id")
            descending = str(sort.get("direction", "ASCENDING")).upper().startswith("DESC")
            hits.sort(key=lambda o, p=prop: _sort_key(o, p), reverse=descending)
        names = body.get("properties") or None
        kind = self.data.kind(obj)
        page = hits[offset:offset + limit]
        reply: dict[str, Any] = {"total": len(hits), "results": [o.view(names, kind) for o in page]}
        if offset + limit < len(hits):
            reply["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, reply

    # ------------------------------------------------------------ single writes

    def create_one(self, obj: str, body: Any) -> Reply:
        properties = (body or {}).get("properties") if isinstance(body, dict) else None
        problem = self.data.validate(obj, properties if properties is not None else {})
        if problem is not None:
            return (409 if problem["category"] == "CONFLICT" else 400), problem
        item = self.data.create(obj, properties or {})
        return 201, item.view(list(properties or {}) + list(self.data.kind(obj).defaults), self.data.kind(obj))

    def patch_one(self, obj: str, object_id: str, body: Any) -> Reply:
        item = self.data.get(obj, object_id)
        if item is None or item.archived:
            return 404, error_body(f"resource not found: {obj} {object_id}", "OBJECT_NOT_FOUND")
        properties = (body or {}).get("properties") if isinstance(body, dict) else None
        problem = self.data.validate(obj, properties if properties is not None else {}, existing=item)
        if problem is not None:
            return (409 if problem["category"] == "CONFLICT" else 400), problem
        self.data.update(obj, item, properties or {})
        return 200, item.view(list(properties or {}), self.data.kind(obj))

    def archive_one(self, obj: str, object_id: str) -> Reply:
        item = self.data.get(obj, object_id)
        if item is not None:
            self.data.archive(obj, item)
        return 204, None

    # ------------------------------------------------------------ batches

    def batch(self, obj: str, action: str, body: Any, query: dict[str, str]) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return _bad("Invalid input JSON on line 1: the body must be an object with an `inputs` list")
        inputs = body["inputs"]
        if len(inputs) > BATCH_LIMIT:
            return _bad(f"Too many inputs in one batch: {len(inputs)}. The limit is {BATCH_LIMIT}.")
        if action == "read" and body.get("propertiesWithHistory") and len(inputs) > 50:
            return _bad("Batch read with propertiesWithHistory is limited to 50 inputs")
        handler = {"read": self._read, "create": self._create, "update": self._update, "upsert": self._upsert,
                   "archive": self._archive}.get(action)
        if handler is None:
            return 404, error_body(f"unknown batch action {action!r}", "OBJECT_NOT_FOUND")
        return handler(obj, inputs, body, query)

    def _finish(self, results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int) -> Reply:
        now = iso(datetime.now(UTC))
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now,
                                "requestedAt": now, "links": {}}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
            return 207, body
        return ok, body

    def _whole(self, errors: list[dict[str, Any]]) -> Reply | None:
        """In whole-batch mode the first bad input fails the call and nothing is written."""
        if self.batch_mode != "whole_batch" or not errors:
            return None
        first = dict(errors[0])
        return (409 if first.get("category") == "CONFLICT" else 400), first

    def _read(self, obj: str, inputs: list[Any], body: dict[str, Any], query: dict[str, str]) -> Reply:
        id_property = body.get("idProperty") or query.get("idProperty")
        if id_property and id_property not in self.data.unique_properties(obj):
            return _bad(f"idProperty {id_property!r} is not a unique property of {obj}")
        archived = bool(body.get("archived"))
        names, kind = body.get("properties") or None, self.data.kind(obj)
        results, missing = [], []
        for entry in inputs:
            key = str((entry or {}).get("id", ""))
            item = self.data.find_unique(obj, id_property, key) if id_property else self.data.get(obj, key)
            if item is None or item.archived != archived:
                missing.append(key)
            else:
                results.append(item.view(names, kind))
        errors = [error_body(f"Could not get some {obj.upper().rstrip('S')} objects, they may be deleted or "
                             "not exist. Check that ids are valid.", "OBJECT_NOT_FOUND",
                             context={"ids": missing})] if missing else []
        return self._finish(results, errors, 200)

    def _create(self, obj: str, inputs: list[Any], body: dict[str, Any], query: dict[str, str]) -> Reply:
        kind = self.data.kind(obj)
        planned: list[tuple[dict[str, Any], Any]] = []
        errors: list[dict[str, Any]] = []
        seen: dict[str, dict[str, str]] = {prop: {} for prop in self.data.unique_properties(obj)}
        for entry in inputs:
            entry = entry if isinstance(entry, dict) else {}
            properties, trace = entry.get("properties") or {}, entry.get("objectWriteTraceId")
            problem = self.data.validate(obj, properties)
            if problem is None:  # two inputs of one batch may not claim the same unique value either
                for prop, taken in seen.items():
                    value = str(properties.get(prop) or "").strip().lower()
                    if value and value in taken:
                        problem = error_body(f"Duplicate {prop} {value!r} in the batch input", "VALIDATION_ERROR")
                    elif value:
                        taken[value] = str(trace)
            if problem is not None:
                problem["context"] = {**problem.get("context", {}), "objectWriteTraceId": [str(trace)]}
                errors.append(problem)
            else:
                planned.append((properties, trace))
        whole = self._whole(errors)
        if whole is not None:
            return whole
        results = []
        for properties, trace in planned:
            view = self.data.create(obj, properties).view(list(properties) + list(kind.defaults), kind)
            if trace is not None:
                view["objectWriteTraceId"] = str(trace)
            results.append(view)
        return self._finish(results, errors, 201)

    def _update(self, obj: str, inputs: list[Any], body: dict[str, Any], query: dict[str, str]) -> Reply:
        kind = self.data.kind(obj)
        planned: list[tuple[HsObject, dict[str, Any]]] = []
        errors: list[dict[str, Any]] = []
        for entry in inputs:
            entry = entry if isinstance(entry, dict) else {}
            key, properties = str(entry.get("id", "")), entry.get("properties") or {}
            id_property = entry.get("idProperty") or query.get("idProperty")
            item = self.data.find_unique(obj, id_property, key) if id_property else self.data.get(obj, key)
            if item is None or item.archived:
                errors.append(error_body(f"resource not found: {obj} {key}", "OBJECT_NOT_FOUND",
                                         context={"ids": [key]}))
                continue
            problem = self.data.validate(obj, properties, existing=item)
            if problem is not None:
                problem["context"] = {**problem.get("context", {}), "ids": [key]}
                errors.append(problem)
            else:
                planned.append((item, properties))
        whole = self._whole(errors)
        if whole is not None:
            return whole
        results = [self.data.update(obj, item, props).view(list(props), kind) for item, props in planned]
        return self._finish(results, errors, 200)

    def _upsert(self, obj: str, inputs: list[Any], body: dict[str, Any], query: dict[str, str]) -> Reply:
        kind = self.data.kind(obj)
        planned: list[tuple[HsObject | None, dict[str, Any], str]] = []
        errors: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entry in inputs:
            entry = entry if isinstance(entry, dict) else {}
            key = str(entry.get("id", "")).strip()
            id_property = entry.get("idProperty") or query.get("idProperty")
            if id_property not in self.data.unique_properties(obj):
                return _bad(f"idProperty {id_property!r} is not a unique property of {obj}; upsert needs one "
                            f"of {list(self.data.unique_properties(obj))}")
            properties = {**(entry.get("properties") or {}), id_property: key}
            marker = (id_property, key.lower())
            item = self.data.find_unique(obj, id_property, key) if key else None
            problem = self.data.validate(obj, properties, existing=item)
            if problem is None and marker in seen:
                problem = error_body(f"Duplicate IDs found in batch input: {key}", "VALIDATION_ERROR")
            seen.add(marker)
            if problem is not None:
                problem["context"] = {**problem.get("context", {}), "ids": [key]}
                errors.append(problem)
            else:
                planned.append((item, properties, key))
        whole = self._whole(errors)
        if whole is not None:
            return whole
        results = []
        for item, properties, _key in planned:
            fresh = item is None
            stored = self.data.create(obj, properties) if fresh else self.data.update(obj, item, properties)
            results.append({**stored.view(list(properties) + list(kind.defaults), kind), "new": fresh})
        return self._finish(results, errors, 200)

    def _archive(self, obj: str, inputs: list[Any], body: dict[str, Any], query: dict[str, str]) -> Reply:
        for entry in inputs:
            item = self.data.get(obj, str((entry or {}).get("id", "")))
            if item is not None:
                self.data.archive(obj, item)
        return 204, None

    # ------------------------------------------------------------ merge, GDPR delete, properties

    def merge(self, obj: str, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        primary_id, other_id = str(body.get("primaryObjectId", "")), str(body.get("objectIdToMerge", ""))
        if not primary_id or not other_id:
            return _bad("primaryObjectId and objectIdToMerge are both required")
        primary = self.data.objects[obj].get(primary_id)
        other = self.data.objects[obj].get(other_id)
        if primary is None or other is None or primary.archived or other.archived:
            missing = primary_id if primary is None or primary.archived else other_id
            return 404, error_body(f"resource not found: {obj} {missing}", "OBJECT_NOT_FOUND")
        if primary.merged_into or other.merged_into or primary_id == other_id:
            return _bad(f"cannot merge {other_id} into {primary_id}: one of them was already merged, "
                        "or they are the same object")
        merged = self.data.merge(obj, primary, other)
        return 200, merged.view(None, self.data.kind(obj))

    def gdpr_delete(self, obj: str, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        key, id_property = str(body.get("objectId", "")), body.get("idProperty")
        item = self.data.find_unique(obj, id_property, key) if id_property else self.data.get(obj, key)
        if item is None:
            return 404, error_body(f"resource not found: {obj} {key}", "OBJECT_NOT_FOUND")
        self.data.purge(obj, item)
        return 204, None

    def properties(self, obj: str, name: str | None) -> Reply:
        def describe(prop: str, extra: dict[str, Any]) -> dict[str, Any]:
            return {"name": prop, "label": extra.get("label", prop), "type": extra.get("type", "string"),
                    "fieldType": extra.get("fieldType", "text"), "groupName": extra.get("groupName",
                    "contactinformation"), "hasUniqueValue": bool(extra.get("hasUniqueValue"))
                    or prop in self.data.kind(obj).unique, "options": []}

        every = {p: describe(p, {}) for p in sorted(self.data.kind(obj).known)}
        every.update({p: describe(p, extra) for p, extra in self.data.custom[obj].items()})
        if name is None:
            return 200, {"results": list(every.values())}
        if name not in every:
            return 404, error_body(f"Unable to find property {name!r} for object type {obj}", "OBJECT_NOT_FOUND")
        return 200, every[name]

    def create_property(self, obj: str, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        name = str(body.get("name") or "")
        if not name or not name.replace("_", "").isalnum() or name != name.lower():
            return _bad(f"property name {name!r} must be lowercase letters, digits and '_'")
        if self.data.known(obj, name):
            return 409, error_body(f"A property named {name!r} already exists.", "OBJECT_ALREADY_EXISTS")
        self.data.add_unique_property(obj, name, {k: body[k] for k in ("label", "type", "fieldType", "groupName",
                                                                       "hasUniqueValue") if k in body})
        return 201, self.properties(obj, name)[1]
