"""The amoCRM destination writer: contacts keyed by a `crmsync_id` custom field (the golden id).

amoCRM has no upsert, so `create` looks every record up before it writes (connectors/amocrm/
lookup.py): by our key, then, when `match_by` allows, by e-mail or phone among contacts people
made. `lookup: scan` (the default) reads the account once and then only what changed;
`lookup: query` asks `query=<value>` per record. The key lives in a `crmsync_id` custom field,
which `prepare` creates if the account lacks it. Found ones are updated (PATCH, in batches), the
rest created (POST, in batches); a create whose answer was lost is looked up again by the
engine's next attempt, never repeated blindly. amoCRM refuses a batch as a whole when an entity
in it is invalid, naming each by `request_id` (we send the golden id): those become per-record
rejections with amoCRM's words, and the rest of the batch is sent again.

Writing PHONE or EMAIL replaces the field's values, so pushing twice never doubles a number.
The API has no delete for contacts: an archive (the loser of a merge, a retired record) clears
our key and tags the contact `crmsync-archived`; an erasure also blanks the name and every field
crmsync writes and tags it `crmsync-erased`, for a person to delete in amoCRM if wanted.
Everything is paced under the account's shared budget (7 requests a second; see README.md).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from connectors.amocrm.client import AmoClient, entity_errors, open_client
from connectors.amocrm.lookup import ARCHIVED_TAG, ERASED_TAG, RETIRED_TAGS, AccountIndex, holds, tags_of
from sync.push.destination import Delivered, DestinationSettings, Missing, OutboundItem, Outcome, Rejected, WriterStats
from sync.push.retries import ApiError, RetryPolicy

__all__ = ["ARCHIVED_TAG", "ATTRIBUTES", "ERASED_TAG", "AmoDestination", "open_destination"]

MAX_BATCH = 250
DEFAULT_BATCH = 50  # amoCRM's recommendation
ATTRIBUTES = ("name", "first_name", "last_name", "responsible_user_id", "tags")
_NOT_FOUND = "(NotFound)"


def _listed(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value not in (None, "") else []
    return [str(v) for v in items if str(v)]


class AmoDestination:
    """Writes amoCRM contacts (or companies) for the push engine."""

    supports_merge = False
    unique_fields: tuple[str, ...] = ()

    def __init__(self, client: AmoClient, *, name: str = "amocrm", entity: str = "contacts",
                 batch_size: int = DEFAULT_BATCH, key_field: str = "crmsync_id",
                 match_by: Sequence[str] = ("email",), enum_codes: dict[str, str] | None = None,
                 lookup: Literal["scan", "query"] = "scan") -> None:
        self.client = client
        self.name = name
        self.entity = entity
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.key_field = key_field
        self.match_by = tuple(match_by)
        self.enum_codes = {"PHONE": "WORK", "EMAIL": "WORK", **(enum_codes or {})}
        self.stats: WriterStats = client.stats
        self._fields: dict[str, dict[str, Any]] = {}
        self._key_id: int | None = None
        self._written: list[str] = []
        self.lookup = lookup
        self.index = AccountIndex(client, entity, self._key)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ set-up

    def _load_fields(self) -> None:
        fields: list[dict[str, Any]] = []
        for page in range(1, 100):
            body = self.client.request("GET", f"/api/v4/{self.entity}/custom_fields", params={"page": page,
                                                                                            "limit": 250})
            chunk = ((body or {}).get("_embedded") or {}).get("custom_fields") or []
            fields += chunk
            if not chunk or not ((body or {}).get("_links") or {}).get("next"):
                break
        self._fields = {}
        for field in fields:
            self._fields[str(field["name"])] = field
            if field.get("code"):
                self._fields[str(field["code"])] = field
        key = self._fields.get(self.key_field)
        if key is None:
            made = self.client.request("POST", f"/api/v4/{self.entity}/custom_fields",
                                       body=[{"name": self.key_field, "type": "text", "sort": 900}])
            key = made["_embedded"]["custom_fields"][0]
            self._fields[self.key_field] = key
        self._key_id = int(key["id"])

    def prepare(self, fields: Sequence[str]) -> None:
        """Check the mapping's targets against the account's fields; create the key field if it is missing."""
        self._load_fields()
        known = [*ATTRIBUTES, *self._fields]
        unknown = [f for f in fields if f not in known]
        if unknown:
            hints = [f"{n!r}" + (f" (did you mean {c[0]!r}?)" if (c := difflib.get_close_matches(n, known, n=1))
                                 else "") for n in unknown]
            raise ValueError(f"destination {self.name!r}: the outbound mapping writes {', '.join(hints)}, which amoCRM "
                             f"{self.entity} do not have; write an attribute ({', '.join(ATTRIBUTES)}), a field code "
                             "(PHONE, EMAIL, POSITION, …) or the name of a custom field of the account")
        self._written = list(fields)

    def _key(self) -> int:
        if self._key_id is None:
            self._load_fields()
        assert self._key_id is not None
        return self._key_id

    # ------------------------------------------------------------ bodies

    def _value(self, name: str, value: Any) -> dict[str, Any]:
        field = self._fields[name]
        values = _listed(value) if field.get("type") == "multitext" else _listed(value)[:1]
        enum = self.enum_codes.get(str(field.get("code"))) if field.get("enums") else None
        target = {"field_code": field["code"]} if field.get("code") else {"field_id": field["id"]}
        return {**target, "values": [{"value": v, **({"enum_code": enum} if enum else {})} for v in values]}

    def body(self, item: OutboundItem, remote_id: str | None = None) -> dict[str, Any]:
        """The entity to send: attributes as they are, fields in `custom_fields_values`, our key included."""
        if not self._fields:
            self._load_fields()
        body: dict[str, Any] = {"request_id": item.key}
        if remote_id:
            body["id"] = int(remote_id)
        values = []
        for name, value in item.properties.items():
            if name == "tags":
                body["tags_to_add"] = [{"name": tag} for tag in _listed(value)]
            elif name in ATTRIBUTES:
                body[name] = value if name == "responsible_user_id" else str(value)
            else:
                values.append(self._value(name, value))
        values.append({"field_id": self._key(), "values": [{"value": item.key}]})
        body["custom_fields_values"] = values
        return body

    # ------------------------------------------------------------ calls

    def _send(self, method: str, bodies: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
        """POST or PATCH a batch: ({request_id: remote id}, {request_id: amoCRM's refusal})."""
        done: dict[str, str] = {}
        refused: dict[str, str] = {}
        pending = list(bodies)
        while pending:
            try:
                reply = self.client.request(method, f"/api/v4/{self.entity}", body=pending,
                                            idempotent=method == "PATCH")
            except ApiError as error:
                named = {rid: text for rid, text in entity_errors(error.body).items()
                         if rid in {b["request_id"] for b in pending}}
                if error.status != 400 or not named:
                    raise
                refused.update(named)
                pending = [b for b in pending if b["request_id"] not in named]
                continue
            answered = ((reply or {}).get("_embedded") or {}).get(self.entity) or []
            asked = [b["request_id"] for b in pending]
            for position, result in enumerate(answered):
                rid = str(result.get("request_id"))
                if rid not in asked and position < len(asked):  # amoCRM numbers them when none was sent
                    rid = asked[position]
                done[rid] = str(result["id"])
            break
        return done, refused

    def _search(self, query: str) -> list[dict[str, Any]]:
        body = self.client.request("GET", f"/api/v4/{self.entity}", params={"query": query, "limit": 50})
        return list(((body or {}).get("_embedded") or {}).get(self.entity) or [])

    def _find(self, item: OutboundItem, taken: set[str]) -> str | None:
        """`lookup: query`: ours by `query=<key>`, else (per match_by) a person's contact by e-mail/phone."""
        key = self._key()
        ours = [r for r in self._search(item.key) if item.key.lower() in holds(r, field_id=key)]
        if ours:
            return str(min(int(r["id"]) for r in ours))
        for identity in self._wanted(item):
            code, _, wanted = identity.partition(":")
            for record in self._search(wanted):
                if (str(record["id"]) not in taken and not holds(record, field_id=key)
                        and wanted in holds(record, code=code) and not tags_of(record) & RETIRED_TAGS):
                    return str(record["id"])
        return None

    def _wanted(self, item: OutboundItem) -> list[str]:
        """The item's identities the look-up may match a person's contact by: "EMAIL:a@b.c", "PHONE:+7…"."""
        return [f"{code}:{value.strip().lower()}" for code, kind in (("EMAIL", "email"), ("PHONE", "phone"))
                if kind in self.match_by for value in self._identities(item, code)]

    def _identities(self, item: OutboundItem, code: str) -> list[str]:
        names = [n for n, f in self._fields.items() if f.get("code") == code and n in item.properties]
        return [v for n in names[:1] for v in _listed(item.properties[n])]

    # ------------------------------------------------------------ the writer protocol

    def _patch(self, items: Sequence[OutboundItem]) -> dict[str, Outcome]:
        done, refused = self._send("PATCH", [self.body(i, i.remote_id) for i in items])
        outcomes: dict[str, Outcome] = {}
        for item in items:
            if item.key in done:
                outcomes[item.key] = Delivered(item.key, str(item.remote_id))
            elif item.key in refused and _NOT_FOUND in refused[item.key]:
                outcomes[item.key] = Missing(item.key, str(item.remote_id))
            elif item.key in refused:
                outcomes[item.key] = Rejected(item.key, refused[item.key], "VALIDATION_ERROR")
        return outcomes

    def update(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        ids = [int(str(i.remote_id)) for i in items]
        body = self.client.request("GET", f"/api/v4/{self.entity}", params={"filter[id][]": ids, "limit": MAX_BATCH})
        present = {str(r["id"]) for r in ((body or {}).get("_embedded") or {}).get(self.entity) or []}
        outcomes: dict[str, Outcome] = {i.key: Missing(i.key, str(i.remote_id)) for i in items
                                        if str(i.remote_id) not in present}
        rest = [i for i in items if i.key not in outcomes]
        if rest:
            outcomes.update(self._patch(rest))
        return self._complete(items, outcomes)

    def create(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        taken: set[str] = set()
        found: list[OutboundItem] = []
        fresh: list[OutboundItem] = []
        if self.lookup == "scan":
            self.index.refresh()
        for item in items:
            remote = self.index.find(item.key, self._wanted(item), taken) if self.lookup == "scan" \
                else self._find(item, taken)
            if remote is None:
                fresh.append(item)
            else:
                taken.add(remote)
                found.append(OutboundItem(item.key, item.properties, remote))
        outcomes: dict[str, Outcome] = {}
        if found:
            for key, outcome in self._patch(found).items():
                outcomes[key] = Rejected(key, "the contact found for it was deleted meanwhile; it is created on the "
                                         "next run", "NOT_FOUND") if isinstance(outcome, Missing) else outcome
        if fresh:
            done, refused = self._send("POST", [self.body(i) for i in fresh])
            for item in fresh:
                if item.key in done:
                    outcomes[item.key] = Delivered(item.key, done[item.key], created=True)
                    self.index.note_created(done[item.key], item.key, self._wanted(item))
                elif item.key in refused:
                    outcomes[item.key] = Rejected(item.key, refused[item.key], "VALIDATION_ERROR")
        return self._complete(items, outcomes)

    def _complete(self, items: Sequence[OutboundItem], outcomes: dict[str, Outcome]) -> list[Outcome]:
        return [outcomes.get(i.key) or Rejected(i.key, "amoCRM's answer did not mention this record", "NO_RESULT")
                for i in items]

    def merge(self, primary_remote_id: str, other_remote_id: str) -> str:
        raise NotImplementedError("amoCRM's API has no merge call; the engine updates the survivor and archives "
                                  "the other")

    def _retire(self, remote_ids: Iterable[str], extra: dict[str, Any], tag: str, fields: Iterable[str]) -> None:
        clear = [{"field_id": self._key(), "values": None}]
        clear += [{"field_id": self._fields[n]["id"], "values": None} for n in dict.fromkeys(fields)
                  if n in self._fields and n not in ATTRIBUTES]
        bodies = [{"id": int(rid), "request_id": str(rid), "custom_fields_values": clear,
                   "tags_to_add": [{"name": tag}], **extra} for rid in remote_ids]
        for start in range(0, len(bodies), self.batch_size):
            _, refused = self._send("PATCH", bodies[start:start + self.batch_size])
            real = {rid: text for rid, text in refused.items() if _NOT_FOUND not in text}  # gone already is fine
            if real:
                rid, text = next(iter(real.items()))
                raise ApiError(400, f"amoCRM refused to change contact {rid}: {text}", category="VALIDATION_ERROR")

    def archive(self, remote_ids: Sequence[str]) -> None:
        """Clear our key and tag the contact (amoCRM's API cannot delete or archive contacts)."""
        self._retire(remote_ids, {}, ARCHIVED_TAG, ())

    def erase(self, remote_ids: Sequence[str]) -> None:
        """Blank the person: name, our key and every field crmsync writes; tag it for deletion by a person."""
        if not self._fields:
            self._load_fields()
        blank = {"name": "", "first_name": "", "last_name": ""} if self.entity == "contacts" else {"name": ""}
        self._retire(remote_ids, blank, ERASED_TAG, [*self._written, "PHONE", "EMAIL", "POSITION"])


def open_destination(settings: DestinationSettings) -> AmoDestination:
    """The writer for one configured destination: base_url (the account's address), `token`, and options
    key_field (default crmsync_id), match_by (default [email]; also phone, or []), enum_codes, retry."""
    token = settings.token.get_secret_value() if settings.token is not None else None
    limits = settings.rate_limit if "rate_limit" in settings.model_fields_set else None
    options = dict(settings.options)
    policy = RetryPolicy(**options["retry"]) if "retry" in options else None
    unknown = sorted(set(options) - {"retry", "key_field", "match_by", "enum_codes", "lookup", "source"})
    if unknown:
        raise ValueError(f"destination {settings.name!r}: unknown option(s) {', '.join(unknown)} for amoCRM; "
                         "known: key_field, match_by, enum_codes, lookup, retry, source (settings for reading "
                         "the account, used by `crmsync migrate`)")
    lookup = options.get("lookup", "scan")
    if lookup not in ("scan", "query"):
        raise ValueError(f"destination {settings.name!r}: options.lookup must be 'scan' or 'query', not {lookup!r}")
    client = open_client(base_url=settings.base_url, token=token, rate_limit=limits, account=settings.account,
                         timeout=settings.timeout_seconds, policy=policy)
    return AmoDestination(client, name=settings.name, entity=settings.object,
                          batch_size=settings.batch_size or DEFAULT_BATCH,
                          key_field=str(options.get("key_field", "crmsync_id")),
                          match_by=list(options.get("match_by", ["email"])), enum_codes=options.get("enum_codes"),
                          lookup=lookup)
