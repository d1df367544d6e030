"""The Bitrix24 destination writer: contacts through `batch` (50 commands per request).

Bitrix24 has no upsert and no unique e-mail, so `create` looks up first, in one batch: the
contacts crmsync made carry `ORIGINATOR_ID=crmsync` and `ORIGIN_ID=<golden id>` (Bitrix24's own
fields for an external system's id), and `crm.duplicate.findbycomm` finds contacts people made
with the same e-mail. Found ones are updated, the rest added. PHONE and EMAIL are multi-fields
edited by item id: the writer reads the current items and sends changes, deletions (an ID with
an empty VALUE) and additions, so pushing twice never doubles a phone number.
Merges: Bitrix24 has no merge call, so the engine updates the survivor and deletes the other.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from connectors.bitrix24.client import BATCH_LIMIT, BitrixClient, open_client
from sync.push.destination import Delivered, DestinationSettings, Missing, OutboundItem, Outcome, Rejected, WriterStats
from sync.push.retries import RetryPolicy

__all__ = ["BitrixDestination", "open_destination"]

ORIGINATOR = "crmsync"
_MULTI = ("PHONE", "EMAIL")
_FINDBYCOMM_MAX = 20


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value not in (None, "") else []
    return [str(v) for v in items if str(v)]


def multi_edit(current: Sequence[dict[str, Any]], wanted: Sequence[str], value_type: str = "WORK") -> list[dict]:
    """The PHONE/EMAIL items to send: keep what matches, blank out what is gone, append what is new."""
    have = {str(item.get("VALUE", "")).lower(): item for item in current}
    edits: list[dict[str, Any]] = [{"ID": str(item["ID"]), "VALUE": ""} for value, item in have.items()
                                   if value not in {w.lower() for w in wanted}]
    edits += [{"VALUE": value, "VALUE_TYPE": value_type} for value in wanted if value.lower() not in have]
    return edits


class BitrixDestination:
    """Writes Bitrix24 contacts for the push engine."""

    supports_merge = False
    unique_fields: tuple[str, ...] = ()

    def __init__(self, client: BitrixClient, *, name: str = "bitrix24", batch_size: int = BATCH_LIMIT) -> None:
        self.client = client
        self.name = name
        self.batch_size = min(batch_size, BATCH_LIMIT)
        self.stats: WriterStats = client.stats

    def close(self) -> None:
        self.client.close()

    def prepare(self, fields: Sequence[str]) -> None:
        known = list((self.client.call("crm.contact.fields") or {}).keys())
        unknown = [f for f in fields if f not in known and not f.startswith("UF_")]
        if unknown:
            hints = [f"{name!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
                name, known, n=1)) else "") for name in unknown]
            raise ValueError(f"destination {self.name!r}: the outbound mapping writes {', '.join(hints)}, which "
                             "Bitrix24 contacts do not have; fix the mapping")

    # ------------------------------------------------------------ helpers

    def _fields(self, item: OutboundItem, current: dict[str, Any] | None) -> dict[str, Any]:
        fields = {k: v for k, v in item.properties.items() if k not in _MULTI}
        for kind in _MULTI:
            if kind in item.properties or current:
                edits = multi_edit((current or {}).get(kind) or [], _values(item.properties.get(kind)))
                if edits:
                    fields[kind] = edits
        return {**fields, "ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": item.key}

    def _current(self, remote_ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Each contact as it is now (with PHONE and EMAIL items), and the ids that no longer exist."""
        results, errors = self.client.batch({f"g{i}": ("crm.contact.get", {"id": rid})
                                             for i, rid in enumerate(remote_ids)})
        found = {str(r["ID"]): r for r in results.values() if isinstance(r, dict) and "ID" in r}
        # Bitrix24 says "Not found" with an empty error code: the description is all there is to go on
        missing = {remote_ids[int(name[1:])] for name, e in errors.items() if "not found" in e.message.lower()}
        return found, missing

    def _write(self, items: Sequence[OutboundItem], current: dict[str, dict[str, Any]]) -> dict[str, Outcome]:
        commands: dict[str, tuple[str, dict[str, Any]]] = {}
        for i, item in enumerate(items):
            if item.remote_id:
                commands[f"u{i}"] = ("crm.contact.update", {"id": item.remote_id, "fields": self._fields(
                    item, current.get(item.remote_id, {}))})
            else:
                commands[f"a{i}"] = ("crm.contact.add", {"fields": self._fields(item, None),
                                                         "params": {"REGISTER_SONET_EVENT": "N"}})
        adds = any(name.startswith("a") for name in commands)
        results, errors = self.client.batch(commands, idempotent=not adds)
        outcomes: dict[str, Outcome] = {}
        for i, item in enumerate(items):
            name = f"u{i}" if item.remote_id else f"a{i}"
            if name in errors:
                outcomes[item.key] = Rejected(item.key, errors[name].message, errors[name].category)
            elif name in results:
                remote = item.remote_id or str(results[name])
                outcomes[item.key] = Delivered(item.key, remote, created=not item.remote_id)
        return outcomes

    def _complete(self, items: Sequence[OutboundItem], outcomes: dict[str, Outcome]) -> list[Outcome]:
        return [outcomes.get(i.key) or Rejected(i.key, "Bitrix24's batch answer did not mention this record",
                                                "NO_RESULT") for i in items]

    # ------------------------------------------------------------ writes

    def update(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        current, missing = self._current([str(i.remote_id) for i in items])
        outcomes: dict[str, Outcome] = {i.key: Missing(i.key, str(i.remote_id)) for i in items
                                        if i.remote_id in missing}
        outcomes.update(self._write([i for i in items if i.key not in outcomes], current))
        return self._complete(items, outcomes)

    def create(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        commands: dict[str, tuple[str, dict[str, Any]]] = {"mine": ("crm.contact.list", {
            "filter": {"ORIGINATOR_ID": ORIGINATOR, "@ORIGIN_ID": [i.key for i in items]},
            "select": ["ID", "ORIGIN_ID"], "start": -1})}
        emails = sorted({v.lower() for i in items for v in _values(i.properties.get("EMAIL"))})
        for n in range(0, len(emails), _FINDBYCOMM_MAX):
            commands[f"e{n}"] = ("crm.duplicate.findbycomm", {"type": "EMAIL", "entity_type": "CONTACT",
                                                              "values": emails[n:n + _FINDBYCOMM_MAX]})
        results, errors = self.client.batch(commands)
        if "mine" in errors:
            raise errors["mine"]
        by_origin = {str(r["ORIGIN_ID"]): str(r["ID"]) for r in results.get("mine") or []}
        people_made = sorted({str(cid) for name, r in results.items() if name.startswith("e") and isinstance(r, dict)
                              for cid in r.get("CONTACT") or []}, key=int)
        targets: dict[str, str] = {}
        for item in items:
            if item.key in by_origin:
                targets[item.key] = by_origin[item.key]
        if people_made and len(targets) < len(items):  # match the rest by e-mail among contacts people made
            current, _ = self._current(people_made[:BATCH_LIMIT])
            taken = set(by_origin.values())
            for item in items:
                if item.key in targets:
                    continue
                wanted = {v.lower() for v in _values(item.properties.get("EMAIL"))}
                for cid, contact in current.items():
                    held = {str(e.get("VALUE", "")).lower() for e in contact.get("EMAIL") or []}
                    if cid not in taken and contact.get("ORIGINATOR_ID") != ORIGINATOR and wanted & held:
                        targets[item.key] = cid
                        taken.add(cid)
                        break
        found = [OutboundItem(i.key, i.properties, targets[i.key]) for i in items if i.key in targets]
        current = self._current([str(i.remote_id) for i in found])[0] if found else {}
        fresh = [i for i in items if i.key not in targets]
        outcomes = self._write([*found, *fresh], current)
        return self._complete(items, {k: Delivered(o.key, o.remote_id) if isinstance(o, Delivered) and k in targets
                                      else o for k, o in outcomes.items()})

    def merge(self, primary_remote_id: str, other_remote_id: str) -> str:
        raise NotImplementedError("Bitrix24 has no merge call; the engine updates the survivor and archives the other")

    def archive(self, remote_ids: Sequence[str]) -> None:
        self._delete(remote_ids)

    def erase(self, remote_ids: Sequence[str]) -> None:
        self._delete(remote_ids)

    def _delete(self, remote_ids: Sequence[str]) -> None:
        for start in range(0, len(remote_ids), BATCH_LIMIT):
            part = remote_ids[start:start + BATCH_LIMIT]
            _, errors = self.client.batch({f"d{i}": ("crm.contact.delete", {"id": rid}) for i, rid in enumerate(part)})
            real = [e for e in errors.values() if "not found" not in e.message.lower()]
            if real:
                raise real[0]


def open_destination(settings: DestinationSettings) -> BitrixDestination:
    """The writer for one configured destination: the webhook URL comes from `token` (or `base_url`)."""
    token = settings.token.get_secret_value() if settings.token is not None else None
    url = token if token and "/rest/" in token else settings.base_url
    limits = settings.rate_limit if "rate_limit" in settings.model_fields_set else None
    policy = RetryPolicy(**settings.options["retry"]) if "retry" in settings.options else None
    client = open_client(webhook_url=url, rate_limit=limits, account=settings.account,
                         timeout=settings.timeout_seconds, policy=policy)
    return BitrixDestination(client, name=settings.name, batch_size=settings.batch_size or BATCH_LIMIT)

