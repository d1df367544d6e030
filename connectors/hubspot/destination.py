"""The HubSpot destination writer: batch upsert/create/update of 100, merge, archive, GDPR delete.

How `create` never duplicates (what the push engine relies on after a crash or a timeout):

- a record with an e-mail goes through `batch/upsert` keyed on `email`: HubSpot finds the contact
  holding that e-mail (also as an additional e-mail after a merge) or creates it, atomically;
- a record without one is first looked up by the external id property (`crmsync_id`, a unique
  property this writer creates in the portal), and only the ones not found are created.

Every record also carries its golden id in `crmsync_id`, so a contact can always be traced back.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from typing import Any

from connectors.hubspot.client import HubSpotClient, open_client
from sync.push.destination import Delivered, DestinationSettings, Missing, OutboundItem, Outcome, Rejected, WriterStats
from sync.push.retries import AmbiguousWrite, ApiError, RetryPolicy

__all__ = ["HubSpotDestination", "open_destination"]

log = logging.getLogger(__name__)

BATCH_LIMIT = 100
EXTERNAL_ID = "crmsync_id"
_TERMINAL_LOOKUP = frozenset({"OBJECT_NOT_FOUND"})


class HubSpotDestination:
    """Writes one HubSpot object type (contacts by default) for the push engine."""

    supports_merge = True
    unique_fields: tuple[str, ...] = ("email",)

    def __init__(self, client: HubSpotClient, *, object_type: str = "contacts", batch_size: int = BATCH_LIMIT,
                 external_id: str = EXTERNAL_ID, name: str = "hubspot") -> None:
        self.client = client
        self.object = object_type
        self.batch_size = min(batch_size, BATCH_LIMIT)
        self.external_id = external_id
        self.name = name
        self.stats: WriterStats = client.stats
        if object_type != "contacts":
            self.unique_fields = ()
        self._base = f"/crm/v3/objects/{object_type}"

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ setup

    def prepare(self, fields: Sequence[str]) -> None:
        """Check the mapping's fields exist in the portal and create the external id property if missing."""
        listing = self.client.request("GET", f"/crm/v3/properties/{self.object}") or {}
        known = {p["name"]: p for p in listing.get("results", []) if isinstance(p, dict) and "name" in p}
        unknown = [f for f in fields if f not in known]
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, list(known), n=1)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ValueError(f"destination {self.name!r}: the outbound mapping writes {', '.join(hints)}, which "
                             f"HubSpot {self.object} do not have; fix the mapping or create the property in "
                             "HubSpot (Settings → Properties)")
        prop = known.get(self.external_id)
        if prop is None:
            log.info("creating the unique property %s on HubSpot %s", self.external_id, self.object)
            self.client.request("POST", f"/crm/v3/properties/{self.object}", body={
                "name": self.external_id, "label": "crmsync golden id", "type": "string", "fieldType": "text",
                "groupName": "contactinformation" if self.object == "contacts" else "companyinformation",
                "hasUniqueValue": True, "description": "The crmsync golden record this record is kept in sync with"})
        elif not prop.get("hasUniqueValue"):
            raise ValueError(f"destination {self.name!r}: HubSpot property {self.external_id!r} exists but is not "
                             "unique; crmsync looks records up by it. Use another name (options.external_id_property)"
                             " or make it unique in HubSpot")

    # ------------------------------------------------------------ helpers

    def _props(self, item: OutboundItem) -> dict[str, Any]:
        return {**item.properties, self.external_id: item.key}

    @staticmethod
    def _errors(body: Any) -> list[dict[str, Any]]:
        return [e for e in (body or {}).get("errors") or [] if isinstance(e, dict)]

    @staticmethod
    def _context(error: dict[str, Any], name: str) -> list[str]:
        return [str(v) for v in (error.get("context") or {}).get(name) or []]

    def _lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """external id → HubSpot id, for the keys that already have a record."""
        if not keys:
            return {}
        body = self.client.request("POST", f"{self._base}/batch/read", body={
            "idProperty": self.external_id, "properties": [self.external_id],
            "inputs": [{"id": key} for key in keys]})
        found = {}
        for result in (body or {}).get("results") or []:
            key = (result.get("properties") or {}).get(self.external_id)
            if key in keys:
                found[key] = str(result["id"])
        return found

    # ------------------------------------------------------------ writes

    def update(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        by_remote = {str(i.remote_id): i for i in items}
        body = self.client.request("POST", f"{self._base}/batch/update", body={
            "inputs": [{"id": i.remote_id, "properties": self._props(i)} for i in items]})
        outcomes: dict[str, Outcome] = {}
        for result in (body or {}).get("results") or []:
            key = (result.get("properties") or {}).get(self.external_id)
            item = next((i for i in items if i.key == key), None) or by_remote.get(str(result.get("id")))
            if item is not None:
                outcomes[item.key] = Delivered(item.key, str(result["id"]))
        for error in self._errors(body):
            for remote in self._context(error, "ids"):
                item = by_remote.get(remote)
                if item is None:
                    continue
                if error.get("category") in _TERMINAL_LOOKUP:
                    outcomes[item.key] = Missing(item.key, remote)
                else:
                    outcomes[item.key] = Rejected(item.key, str(error.get("message")), error.get("category"))
        return self._complete(items, outcomes, "update")

    def create_lane(self, item: OutboundItem) -> str:
        """How `create` writes this record: "upsert" (by e-mail, one call) or "lookup" (look up, then create)."""
        return "upsert" if self.unique_fields and item.properties.get("email") else "lookup"

    def create(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        keyed = [i for i in items if self.create_lane(i) == "upsert"]
        bare = [i for i in items if i not in keyed]
        outcomes: dict[str, Outcome] = {}
        if keyed:
            outcomes.update(self._upsert(keyed))
        if bare:
            outcomes.update(self._create_bare(bare))
        # a unique-value conflict means the record exists under its external id: take it over
        conflicted = [i for i in items if isinstance(outcomes.get(i.key), Rejected)
                      and outcomes[i.key].category == "CONFLICT"]  # type: ignore[union-attr]
        if conflicted:
            found = self._lookup([i.key for i in conflicted])
            again = [OutboundItem(i.key, i.properties, found[i.key]) for i in conflicted if i.key in found]
            if again:
                outcomes.update({o.key: o for o in self.update(again)})
        return self._complete(items, outcomes, "create")

    def _upsert(self, items: Sequence[OutboundItem]) -> dict[str, Outcome]:
        by_email = {str(i.properties["email"]).strip().lower(): i for i in items}
        body = self.client.request("POST", f"{self._base}/batch/upsert", body={"inputs": [
            {"id": str(i.properties["email"]), "idProperty": "email", "properties": self._props(i)} for i in items]})
        outcomes: dict[str, Outcome] = {}
        keys = {i.key for i in items}
        for result in (body or {}).get("results") or []:
            props = result.get("properties") or {}
            key = props.get(self.external_id)
            if key not in keys:
                item = by_email.get(str(props.get("email") or "").lower())
                key = item.key if item else None
            if key is not None:
                outcomes[key] = Delivered(key, str(result["id"]), created=bool(result.get("new")))
        for error in self._errors(body):
            for email in self._context(error, "ids"):
                item = by_email.get(email.strip().lower())
                if item is not None:
                    outcomes[item.key] = Rejected(item.key, str(error.get("message")), error.get("category"))
        return outcomes

    def _create_bare(self, items: Sequence[OutboundItem]) -> dict[str, Outcome]:
        found = self._lookup([i.key for i in items])
        outcomes: dict[str, Outcome] = {}
        existing = [OutboundItem(i.key, i.properties, found[i.key]) for i in items if i.key in found]
        if existing:
            for outcome in self.update(existing):
                outcomes[outcome.key] = Delivered(outcome.key, outcome.remote_id) if isinstance(
                    outcome, Delivered) else outcome
        fresh = [i for i in items if i.key not in found]
        if not fresh:
            return outcomes
        body = self.client.request("POST", f"{self._base}/batch/create", idempotent=False, body={"inputs": [
            {"properties": self._props(i), "objectWriteTraceId": i.key} for i in fresh]})
        keys = {i.key for i in fresh}
        for result in (body or {}).get("results") or []:
            key = (result.get("properties") or {}).get(self.external_id) or result.get("objectWriteTraceId")
            if key in keys:
                outcomes[key] = Delivered(key, str(result["id"]), created=True)
        for error in self._errors(body):
            for key in self._context(error, "objectWriteTraceId"):
                if key in keys:
                    outcomes[key] = Rejected(key, str(error.get("message")), error.get("category"))
        return outcomes

    def _complete(self, items: Sequence[OutboundItem], outcomes: dict[str, Outcome], what: str) -> list[Outcome]:
        """Every item gets an outcome; one HubSpot did not mention was not written (say so, never guess)."""
        result = []
        for item in items:
            outcome = outcomes.get(item.key)
            if outcome is None:
                outcome = Rejected(item.key, f"HubSpot's answer to the batch {what} did not mention this record; "
                                   "it will be tried again when it changes", "NO_RESULT")
            result.append(outcome)
        return result

    def merge(self, primary_remote_id: str, other_remote_id: str) -> str:
        try:
            body = self.client.request("POST", f"{self._base}/merge", idempotent=False, body={
                "primaryObjectId": primary_remote_id, "objectIdToMerge": other_remote_id})
            return str((body or {}).get("id") or primary_remote_id)
        except (AmbiguousWrite, ApiError) as error:
            if isinstance(error, ApiError) and error.status not in (400, 404, 409):
                raise
            # the merge may have happened already (a crash, a lost answer): HubSpot resolves the old id
            try:
                current = self.client.request("GET", f"{self._base}/{other_remote_id}")
            except ApiError as lookup:
                if lookup.status == 404:
                    return primary_remote_id  # gone: nothing left to merge
                raise
            if str((current or {}).get("id")) == str(primary_remote_id):
                return primary_remote_id
            raise

    def archive(self, remote_ids: Sequence[str]) -> None:
        for start in range(0, len(remote_ids), BATCH_LIMIT):
            self.client.request("POST", f"{self._base}/batch/archive",
                                body={"inputs": [{"id": r} for r in remote_ids[start:start + BATCH_LIMIT]]})

    def erase(self, remote_ids: Sequence[str]) -> None:
        for remote in remote_ids:
            try:
                self.client.request("POST", f"{self._base}/gdpr-delete", body={"objectId": remote})
            except ApiError as error:
                if error.status != 404:
                    raise


def open_destination(settings: DestinationSettings) -> HubSpotDestination:
    """The writer for one configured destination (the push engine's entry point into this connector)."""
    token = settings.token.get_secret_value() if settings.token is not None else None
    policy = RetryPolicy(**settings.options["retry"]) if "retry" in settings.options else None
    client = open_client(base_url=settings.base_url, token=token, rate_limit=settings.rate_limit,
                         account=settings.account, timeout=settings.timeout_seconds, policy=policy,
                         time_zone=str(settings.options.get("time_zone", "UTC")))
    return HubSpotDestination(client, object_type=settings.object, batch_size=settings.batch_size or BATCH_LIMIT,
                              external_id=str(settings.options.get("external_id_property", EXTERNAL_ID)),
                              name=settings.name)
