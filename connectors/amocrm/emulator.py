"""A local amoCRM / Kommo API v4 (contacts and companies) on 127.0.0.1 for tests (contract §5).

What it refuses, as amoCRM does: a missing or wrong `Authorization: Bearer` token (401,
problem+json), `limit` over 250, write batches over 250 entities or that are not a JSON array,
custom fields it does not know and enum codes a field does not take (400 with
`validation-errors`, nothing of the batch written), and more than 7 requests a second (429).
Lists are `application/hal+json` with `_page`, `_links.next` while more pages exist, and HTTP
204 with an empty body when nothing matches.

Our choices where the contract is silent (marked so the tests do not pass for the wrong reason):
an e-mail without `@` and a dot is refused with code `InvalidEmail`; PATCH of an id that does not
exist is refused with code `NotFound`; a 429 carries `Retry-After`. The API has no delete for
contacts or companies, so neither does the emulator: tests remove records with `forget`, which
records a `contact_deleted` / `company_deleted` event in `GET /api/v4/events` (amoCRM's events
API, outside our contract: newest first, `filter[type]`, `filter[created_at][from|to]`, limit ≤ 100).
Timestamps come from a fake clock that moves one second per written entity, so tests decide
which records tie on `updated_at`.

Faults: everything the shared base injects (`inject("429"|"500"|"503"|"timeout"|"drop")`), plus
`fault_rate`: that share of requests fails with a random kind from `fault_kinds`, where `lost`
means the request is carried out and then its connection dropped (the answer is lost).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Fault, Route

__all__ = ["ACCOUNT_ID", "AmoEmulator", "FAULT_KINDS", "MAX_BATCH", "MAX_LIMIT"]

ACCOUNT_ID = 28805383
MAX_LIMIT = 250
MAX_BATCH = 250
RATE_PER_SECOND = 7
FAULT_KINDS = ("429", "500", "503", "timeout", "drop", "lost")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ENTITY = r"(?P<entity>contacts|companies)"
_SINGULAR = {"contacts": "contact", "companies": "company"}
EVENTS_LIMIT = 100
_HAL = "application/hal+json"
_PROBLEM = "application/problem+json"
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def _standard_fields() -> dict[str, list[dict[str, Any]]]:
    phone = {"id": 1, "name": "Phone", "code": "PHONE", "type": "multitext", "sort": 4, "is_predefined": True,
             "enums": [{"id": 11 + i, "value": code, "sort": i} for i, code in
                       enumerate(("WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER"))]}
    email = {"id": 2, "name": "Email", "code": "EMAIL", "type": "multitext", "sort": 6, "is_predefined": True,
             "enums": [{"id": 21 + i, "value": code, "sort": i} for i, code in enumerate(("WORK", "PRIV", "OTHER"))]}
    position = {"id": 3, "name": "Position", "code": "POSITION", "type": "text", "sort": 2, "is_predefined": True,
                "enums": None}
    web = {"id": 4, "name": "Web", "code": "WEB", "type": "url", "sort": 8, "is_predefined": True, "enums": None}
    address = {"id": 5, "name": "Address", "code": "ADDRESS", "type": "textarea", "sort": 10, "is_predefined": True,
               "enums": None}
    return {"contacts": [phone, email, position], "companies": [dict(phone, id=6), dict(email, id=7), web, address]}


class AmoEmulator(Emulator):
    """One amoCRM account: contacts, companies and their custom fields behind a real HTTP server."""

    name = "amocrm-emulator"

    def __init__(self, token: str = "amo-test-token", *, rate_per_second: int = RATE_PER_SECOND,
                 stall_seconds: float = 2.0, seed: int = 11) -> None:
        self.token = token
        self.stall_seconds = stall_seconds
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.fired: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()  # answers sent, by status
        self.block_after: int | None = None  # this many 429s within a minute block the account (403)
        self.block_seconds = 60.0
        self._refused: deque[float] = deque()
        self._blocked_until = 0.0
        self.seed = seed
        self._rng = random.Random(seed)
        self._roll = threading.local()
        self._lose: list[tuple[str, str | None]] = []  # (group, method) of answers to lose, in order
        self._data = threading.RLock()
        self.entities: dict[str, dict[int, dict[str, Any]]] = {"contacts": {}, "companies": {}}
        self.events: list[dict[str, Any]] = []
        self.fields = _standard_fields()
        self.clock = 1714550400
        self._next_id = 406000
        super().__init__()
        self.rate_per_second = rate_per_second
        self.limit_rate(rate_per_second, 1.0, permanent=True)

    # ------------------------------------------------------------ test switches

    def reset(self, *, rate_per_second: int = RATE_PER_SECOND, token: str | None = None) -> None:
        """No entities, faults, request log or spent rate limit; the API's own limit set again."""
        with self._data:
            self.entities = {"contacts": {}, "companies": {}}
            self.events = []
            self.fields = _standard_fields()
            self.clock, self._next_id = 1714550400, 406000
            self.fault_rate, self.fault_kinds = 0.0, FAULT_KINDS
            self.fired.clear()
            self.statuses.clear()
            self.block_after, self._blocked_until = None, 0.0
            self._refused.clear()
            self._lose.clear()
            self._rng = random.Random(self.seed)
            self.token = token or self.token
        with self._lock:
            self._faults.clear()
            self._limits.clear()
            self._hits.clear()
            self.requests.clear()
        self.rate_per_second = rate_per_second
        self.limit_rate(rate_per_second, 1.0, permanent=True)

    def lose_answers(self, count: int = 1, *, group: str = "write", method: str | None = None) -> None:
        """Carry out the next `count` matching requests, then drop their connections (the answer is lost)."""
        with self._data:
            self._lose += [(group, method)] * count

    def contacts(self) -> list[dict[str, Any]]:
        """Every contact as stored."""
        with self._data:
            return [json.loads(json.dumps(c)) for c in self.entities["contacts"].values()]

    def forget(self, entity: str, entity_id: int) -> None:
        """Remove a record, as a person deleting it in amoCRM's interface would (an event says so)."""
        with self._data:
            if self.entities[entity].pop(int(entity_id), None) is not None:
                singular = _SINGULAR[entity]
                self.events.append({"id": f"01ev{len(self.events):022d}", "type": f"{singular}_deleted",
                                    "entity_id": int(entity_id), "entity_type": singular, "created_by": 0,
                                    "created_at": self._tick(), "value_after": [], "value_before": [],
                                    "account_id": ACCOUNT_ID, "_embedded": {}})

    def add(self, entity: str, count: int, **overrides: Any) -> list[dict[str, Any]]:
        """Make `count` records exist, one clock second apart; returns them."""
        made = []
        with self._data:
            for _ in range(count):
                n = self._next_id - 405999
                body: dict[str, Any] = {"name": f"Person{n} Example", "first_name": f"Person{n}",
                                        "last_name": "Example", "custom_fields_values": [
                                            {"field_code": "PHONE", "values": [
                                                {"value": f"+7999{n:07d}", "enum_code": "WORK"}]},
                                            {"field_code": "EMAIL", "values": [
                                                {"value": f"p{n}@example.test", "enum_code": "WORK"}]}]}
                if entity == "companies":
                    body = {"name": f"Firm {n}", "custom_fields_values": [
                        {"field_code": "WEB", "values": [{"value": f"https://firm{n}.example"}]}]}
                body.update(overrides)
                made.append(self._create(entity, body))
        return made

    def custom_field(self, entity: str, code_or_name: str) -> dict[str, Any] | None:
        """A custom field by code or name."""
        return next((f for f in self.fields[entity] if code_or_name in (f.get("code"), f["name"])), None)

    @property
    def write_calls(self) -> int:
        """POST and PATCH requests on contacts and companies (custom field set-up not counted)."""
        with self._lock:
            return sum(1 for r in self.requests if r.group == "write")

    # ------------------------------------------------------------ the base's hooks

    def routes(self) -> list[Route]:
        """The v4 routes this emulator serves."""
        return [
            Route("GET", r"/api/v4/account", self._account, group="account"),
            Route("GET", r"/api/v4/events", self._events, group="events"),
            Route("GET", rf"/api/v4/{_ENTITY}/custom_fields", self._list_fields, group="fields"),
            Route("POST", rf"/api/v4/{_ENTITY}/custom_fields", self._add_fields, group="fields"),
            Route("GET", rf"/api/v4/{_ENTITY}", self._list, group="list"),
            Route("GET", rf"/api/v4/{_ENTITY}/(?P<id>\d+)", self._get, group="list"),
            Route("POST", rf"/api/v4/{_ENTITY}", self._post, group="write"),
            Route("PATCH", rf"/api/v4/{_ENTITY}", self._patch, group="write"),
            Route("PATCH", rf"/api/v4/{_ENTITY}/(?P<id>\d+)", self._patch_one, group="write"),
        ]

    def error(self, status: int, message: str, **extra: Any) -> EmuResponse:
        """problem+json: {title, type, status, detail}."""
        body = {"title": _TITLES.get(status, "Error"), "type": f"https://httpstatus.es/{status}", "status": status,
                "detail": message, **extra}
        return EmuResponse(status, body, {"Content-Type": _PROBLEM})

    def rate_limited(self, retry_after: float | None) -> EmuResponse:
        """429 problem+json; Retry-After says when a slot frees."""
        response = self.error(429, "Too many requests")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """Bearer token of the account."""
        if request.headers.get("authorization", "") != f"Bearer {self.token}":
            return self.error(401, "Unauthorized: the access token is missing, invalid or expired")
        return None

    def _take_fault(self, group: str) -> Fault | None:
        fault = super()._take_fault(group)
        if fault is not None:
            self.fired[fault.kind] += 1
            return fault
        kind = getattr(self._roll, "kind", None)
        if kind in ("429", "500", "503", "timeout", "drop"):
            return Fault(kind, retry_after=1.0 if kind == "429" else None, delay=self.stall_seconds)  # type: ignore[arg-type]
        return None

    def _blocked(self, response: EmuResponse | None) -> EmuResponse | None:
        """Persistent abuse: `block_after` 429s within a minute answer 403 for `block_seconds`."""
        now = time.monotonic()
        with self._data:
            if now < self._blocked_until:
                return self.error(403, "Access denied: too many requests beyond the limit; the account is "
                                  "blocked for a while")
            if response is not None and response.status == 429 and self.block_after:
                self._refused.append(now)
                while self._refused and self._refused[0] <= now - 60:
                    self._refused.popleft()
                if len(self._refused) >= self.block_after:
                    self._blocked_until = now + self.block_seconds
        return None

    def _respond(self, request: EmuRequest, route: Route | None, http: BaseHTTPRequestHandler) -> EmuResponse | None:
        blocked = self._blocked(None)
        if blocked is not None:
            with self._data:
                self.statuses[403] += 1
            return blocked
        kind = None
        with self._data:
            aimed = next((n for n, (group, method) in enumerate(self._lose) if group == request.group
                          and method in (None, request.method)), None)
            if aimed is not None:
                del self._lose[aimed]
                kind = "lost"
                self.fired[kind] += 1
            elif self.fault_rate and request.group in ("list", "write") and self._rng.random() < self.fault_rate:
                kind = self._rng.choice(self.fault_kinds)
                self.fired[kind] += 1
        self._roll.kind = kind
        try:
            response = super()._respond(request, route, http)
        finally:
            self._roll.kind = None
        if kind == "lost" and response is not None:
            http.close_connection = True
            http.connection.close()
            return None
        if response is not None:
            self._blocked(response)
            with self._data:
                self.statuses[response.status] += 1
        return response

    # ------------------------------------------------------------ data

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def _field(self, entity: str, cfv: dict[str, Any]) -> dict[str, Any] | None:
        if cfv.get("field_id") is not None:
            return next((f for f in self.fields[entity] if f["id"] == cfv["field_id"]), None)
        if cfv.get("field_code"):
            return next((f for f in self.fields[entity] if f.get("code") == cfv["field_code"]), None)
        return None

    def _problems(self, entity: str, body: Any, *, patch: bool) -> list[dict[str, str]]:
        if not isinstance(body, dict):
            return [{"code": "InvalidType", "path": "", "detail": "This value should be of type object."}]
        problems = []
        if patch and int(body.get("id") or 0) not in self.entities[entity]:
            problems.append({"code": "NotFound", "path": "id", "detail": "Entity not found"})
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 255):
            problems.append({"code": "InvalidType", "path": "name", "detail": "This value is not a valid string."})
        values = body.get("custom_fields_values")
        if values is not None and not isinstance(values, list):
            return [*problems, {"code": "InvalidType", "path": "custom_fields_values",
                                "detail": "This value should be of type array."}]
        for i, cfv in enumerate(values or []):
            field = self._field(entity, cfv) if isinstance(cfv, dict) else None
            if field is None:
                problems.append({"code": "NotSupportedChoice", "path": f"custom_fields_values.{i}.field_id",
                                 "detail": "The value you selected is not a valid choice."})
                continue
            enums = {e["value"] for e in field.get("enums") or []}
            for j, item in enumerate(cfv.get("values") or []):
                where = f"custom_fields_values.{i}.values.{j}"
                if not isinstance(item, dict) or item.get("value") in (None, ""):
                    problems.append({"code": "NotBlank", "path": f"{where}.value", "detail": "This value should "
                                     "not be blank."})
                    continue
                if item.get("enum_code") is not None and item["enum_code"] not in enums:
                    problems.append({"code": "NotSupportedChoice", "path": f"{where}.enum_code",
                                     "detail": "The value you selected is not a valid choice."})
                if field.get("code") == "EMAIL" and not _EMAIL.match(str(item["value"])):
                    problems.append({"code": "InvalidEmail", "path": f"{where}.value",
                                     "detail": f"\"{item['value']}\" is not a valid e-mail address."})
        return problems

    def _values(self, entity: str, incoming: list[dict[str, Any]], current: list[dict[str, Any]]) -> list | None:
        kept = {f["field_id"]: f for f in current}
        for cfv in incoming:
            field = self._field(entity, cfv)
            assert field is not None  # validated
            if not cfv.get("values"):  # null or [] clears the field
                kept.pop(field["id"], None)
                continue
            enums = {e["value"]: e["id"] for e in field.get("enums") or []}
            values = []
            for item in cfv["values"]:
                value = {"value": item["value"]}
                if enums:
                    code = item.get("enum_code") or next(iter(enums))
                    value.update(enum_id=enums[code], enum_code=code)
                values.append(value)
            kept[field["id"]] = {"field_id": field["id"], "field_name": field["name"], "field_code": field.get("code"),
                                 "field_type": field["type"], "values": values}
        return list(kept.values()) or None

    def _apply(self, entity: str, stored: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("name", "first_name", "last_name", "responsible_user_id"):
            if key in body:
                stored[key] = body[key]
        if entity == "contacts" and "name" not in body and ("first_name" in body or "last_name" in body):
            stored["name"] = " ".join(p for p in (stored.get("first_name"), stored.get("last_name")) if p)
        if "custom_fields_values" in body:
            stored["custom_fields_values"] = self._values(entity, body["custom_fields_values"] or [],
                                                          stored.get("custom_fields_values") or [])
        tags = stored["_embedded"]["tags"]
        if "tags" in (body.get("_embedded") or {}):
            wanted = body["_embedded"]["tags"]
            tags[:] = [{"id": 100 + i, "name": t["name"], "color": None} for i, t in enumerate(wanted)]
        for tag in body.get("tags_to_add") or []:
            if tag["name"] not in {t["name"] for t in tags}:
                tags.append({"id": 100 + len(tags), "name": tag["name"], "color": None})
        stored["updated_at"] = self._tick()
        stored["updated_by"] = 0

    def _create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        moment = self._tick()
        stored: dict[str, Any] = {"id": self._next_id, "name": "", "responsible_user_id": 8375357, "group_id": 0,
                                  "created_by": 0, "updated_by": 0, "created_at": moment, "updated_at": moment,
                                  "closest_task_at": None, "is_deleted": False, "custom_fields_values": None,
                                  "account_id": ACCOUNT_ID, "_embedded": {"tags": [], "companies": []}}
        if entity == "contacts":
            stored.update(first_name="", last_name="")
        self._apply(entity, stored, body)
        self.entities[entity][stored["id"]] = stored
        return stored

    def _link(self, request: EmuRequest, entity: str, entity_id: int) -> dict[str, Any]:
        return {"self": {"href": f"{self._origin(request)}/api/v4/{entity}/{entity_id}"}}

    @staticmethod
    def _origin(request: EmuRequest) -> str:
        return f"http://{request.headers.get('host', '127.0.0.1')}"

    # ------------------------------------------------------------ handlers

    def _account(self, request: EmuRequest) -> EmuResponse:
        return EmuResponse(200, {"id": ACCOUNT_ID, "name": "crmsync test", "subdomain": "crmsynctest",
                                 "country": "RU", "currency": "RUB"}, {"Content-Type": _HAL})

    def _matches(self, record: dict[str, Any], query: str) -> bool:
        needle = query.strip().lower()
        texts = [str(record.get(k) or "") for k in ("name", "first_name", "last_name")]
        texts += [str(v.get("value", "")) for f in record.get("custom_fields_values") or [] for v in f["values"]]
        if any(needle in t.lower() for t in texts):
            return True
        digits = re.sub(r"\D", "", needle)
        return len(digits) >= 5 and any(digits in re.sub(r"\D", "", t) for t in texts)

    def _list(self, request: EmuRequest) -> EmuResponse:
        entity = request.params["entity"]
        try:
            page = int(request.arg("page", "1") or 1)
            limit = int(request.arg("limit", "50") or 50)
            since = request.arg("filter[updated_at][from]")
            until = request.arg("filter[updated_at][to]")
            ids = {int(v) for v in request.query.get("filter[id][]", []) + request.query.get("filter[id]", [])}
            bounds = (int(since) if since else None, int(until) if until else None)
        except ValueError:
            return self.error(400, "Request validation failed", **{"validation-errors": [
                {"request_id": "0", "errors": [{"code": "InvalidType", "path": "page|limit|filter",
                                                 "detail": "This value should be of type int."}]}]})
        if limit > MAX_LIMIT or limit < 1 or page < 1:
            return self.error(400, "Request validation failed", **{"validation-errors": [
                {"request_id": "0", "errors": [{"code": "Range", "path": "limit",
                                                 "detail": f"This value should be between 1 and {MAX_LIMIT}."}]}]})
        with self._data:
            hits = list(self.entities[entity].values())
            if ids:
                hits = [r for r in hits if r["id"] in ids]
            if bounds[0] is not None:
                hits = [r for r in hits if r["updated_at"] >= bounds[0]]
            if bounds[1] is not None:
                hits = [r for r in hits if r["updated_at"] <= bounds[1]]
            modified = request.headers.get("if-modified-since")
            if modified:  # only what changed at or after that moment
                try:
                    moment = int(parsedate_to_datetime(modified).timestamp())
                except (TypeError, ValueError):
                    return self.error(400, "If-Modified-Since is not an HTTP date")
                hits = [r for r in hits if r["updated_at"] >= moment]
            query = request.arg("query")
            if query:
                hits = [r for r in hits if self._matches(r, query)]
            by_update = request.arg("order[updated_at]")
            by_id = request.arg("order[id]")
            if by_update:
                hits.sort(key=lambda r: (r["updated_at"], r["id"]), reverse=by_update == "desc")
            else:
                hits.sort(key=lambda r: r["id"], reverse=by_id == "desc")
            chunk = json.loads(json.dumps(hits[(page - 1) * limit:page * limit]))
        if not chunk:
            return EmuResponse(204, b"", {"Content-Type": _HAL})
        base = f"{self._origin(request)}/api/v4/{entity}?"
        others = [(k, v) for k, values in request.query.items() if k != "page" for v in values]
        links: dict[str, Any] = {"self": {"href": base + urlencode([*others, ("page", page)])}}
        if page * limit < len(hits):
            links["next"] = {"href": base + urlencode([*others, ("page", page + 1)])}
        if page > 1:
            links["prev"] = {"href": base + urlencode([*others, ("page", page - 1)])}
        for record in chunk:
            record["_links"] = self._link(request, entity, record["id"])
        return EmuResponse(200, {"_page": page, "_links": links, "_embedded": {entity: chunk}}, {"Content-Type": _HAL})

    def _events(self, request: EmuRequest) -> EmuResponse:
        """The events list, newest first: `filter[type]` (comma-separated or `[]`), `filter[created_at][from|to]`."""
        try:
            page = int(request.arg("page", "1") or 1)
            limit = int(request.arg("limit", "50") or 50)
            since = int(request.arg("filter[created_at][from]") or 0)
            until = int(request.arg("filter[created_at][to]") or 0)
        except ValueError:
            return self.error(400, "Request validation failed: page, limit and filter[created_at] are integers")
        if limit > EVENTS_LIMIT or limit < 1 or page < 1:
            return self.error(400, "Request validation failed", **{"validation-errors": [
                {"request_id": "0", "errors": [{"code": "Range", "path": "limit",
                                                 "detail": f"This value should be between 1 and {EVENTS_LIMIT}."}]}]})
        kinds = {k for v in request.query.get("filter[type]", []) + request.query.get("filter[type][]", [])
                 for k in v.split(",") if k}
        with self._data:
            hits = [e for e in self.events if (not kinds or e["type"] in kinds) and e["created_at"] >= since
                    and (not until or e["created_at"] <= until)]
        hits.sort(key=lambda e: (e["created_at"], e["id"]), reverse=True)
        chunk = hits[(page - 1) * limit:page * limit]
        if not chunk:
            return EmuResponse(204, b"", {"Content-Type": _HAL})
        base = f"{self._origin(request)}/api/v4/events?"
        others = [(k, v) for k, values in request.query.items() if k != "page" for v in values]
        links: dict[str, Any] = {"self": {"href": base + urlencode([*others, ("page", page)])}}
        if page * limit < len(hits):
            links["next"] = {"href": base + urlencode([*others, ("page", page + 1)])}
        return EmuResponse(200, {"_page": page, "_links": links, "_embedded": {"events": chunk}},
                           {"Content-Type": _HAL})

    def _get(self, request: EmuRequest) -> EmuResponse:
        entity = request.params["entity"]
        with self._data:
            record = self.entities[entity].get(int(request.params["id"]))
            if record is None:
                return EmuResponse(204, b"", {"Content-Type": _HAL})
            return EmuResponse(200, {**json.loads(json.dumps(record)),
                                     "_links": self._link(request, entity, record["id"])}, {"Content-Type": _HAL})

    def _batch(self, request: EmuRequest) -> list[Any] | EmuResponse:
        try:
            batch = request.json()
        except ValueError:
            return self.error(400, "Request body is not valid JSON")
        if not isinstance(batch, list):
            return self.error(400, "Request validation failed: the body must be a JSON array of entities")
        if not batch:
            return self.error(400, "Request validation failed: the array of entities is empty")
        if len(batch) > MAX_BATCH:
            return self.error(400, f"Request validation failed: at most {MAX_BATCH} entities per request")
        return batch

    def _refuse(self, failures: Iterable[tuple[str, list[dict[str, str]]]]) -> EmuResponse:
        return self.error(400, "Request validation failed", **{"validation-errors": [
            {"request_id": rid, "errors": errors} for rid, errors in failures]})

    @staticmethod
    def _request_id(body: Any, index: int) -> str:
        return str(body.get("request_id")) if isinstance(body, dict) and body.get("request_id") else str(index)

    def _post(self, request: EmuRequest) -> EmuResponse:
        entity = request.params["entity"]
        batch = self._batch(request)
        if isinstance(batch, EmuResponse):
            return batch
        with self._data:
            failures = [(self._request_id(b, i), p) for i, b in enumerate(batch)
                        if (p := self._problems(entity, b, patch=False))]
            if failures:
                return self._refuse(failures)
            made = [(self._request_id(b, i), self._create(entity, b)) for i, b in enumerate(batch)]
        return EmuResponse(200, {"_links": {"self": {"href": f"{self._origin(request)}/api/v4/{entity}"}},
                                 "_embedded": {entity: [{"id": r["id"], "request_id": rid, "is_deleted": False,
                                                         "_links": self._link(request, entity, r["id"])}
                                                        for rid, r in made]}}, {"Content-Type": _HAL})

    def _update(self, request: EmuRequest, entity: str, batch: list[Any]) -> EmuResponse:
        with self._data:
            failures = [(self._request_id(b, i), p) for i, b in enumerate(batch)
                        if (p := self._problems(entity, b, patch=True))]
            if failures:
                return self._refuse(failures)
            done = []
            for i, body in enumerate(batch):
                stored = self.entities[entity][int(body["id"])]
                self._apply(entity, stored, body)
                done.append({"id": stored["id"], "updated_at": stored["updated_at"],
                             "request_id": self._request_id(body, i),
                             "_links": self._link(request, entity, stored["id"])})
        return EmuResponse(200, {"_links": {"self": {"href": f"{self._origin(request)}/api/v4/{entity}"}},
                                 "_embedded": {entity: done}}, {"Content-Type": _HAL})

    def _patch(self, request: EmuRequest) -> EmuResponse:
        batch = self._batch(request)
        if isinstance(batch, EmuResponse):
            return batch
        return self._update(request, request.params["entity"], batch)

    def _patch_one(self, request: EmuRequest) -> EmuResponse:
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "Request body is not valid JSON")
        if not isinstance(body, dict):
            return self.error(400, "Request validation failed: the body must be a JSON object")
        response = self._update(request, request.params["entity"], [{**body, "id": int(request.params["id"])}])
        if response.status == 200:
            response.body = response.body["_embedded"][request.params["entity"]][0]
        return response

    def _list_fields(self, request: EmuRequest) -> EmuResponse:
        entity = request.params["entity"]
        if int(request.arg("page", "1") or 1) > 1:
            return EmuResponse(204, b"", {"Content-Type": _HAL})
        with self._data:
            fields = json.loads(json.dumps(self.fields[entity]))
        return EmuResponse(200, {"_total_items": len(fields), "_page": 1, "_links": {},
                                 "_embedded": {"custom_fields": fields}}, {"Content-Type": _HAL})

    def _add_fields(self, request: EmuRequest) -> EmuResponse:
        entity = request.params["entity"]
        batch = self._batch(request)
        if isinstance(batch, EmuResponse):
            return batch
        kinds = {"text", "numeric", "checkbox", "select", "multiselect", "date", "url", "textarea", "multitext"}
        failures = [(self._request_id(b, i), [{"code": "NotSupportedChoice", "path": "type",
                                              "detail": "The value you selected is not a valid choice."}])
                    for i, b in enumerate(batch) if not isinstance(b, dict) or b.get("type") not in kinds
                    or not b.get("name")]
        if failures:
            return self._refuse(failures)
        made = []
        with self._data:
            for body in batch:
                field = {"id": 1000 + sum(len(v) for v in self.fields.values()), "name": body["name"],
                         "code": body.get("code"), "type": body["type"], "sort": 500, "is_predefined": False,
                         "enums": None}
                self.fields[entity].append(field)
                made.append(field)
        return EmuResponse(200, {"_embedded": {"custom_fields": made}}, {"Content-Type": _HAL})
