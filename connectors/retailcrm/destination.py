"""The RetailCRM destination writer: customers keyed by `externalId` (the golden id).

`create` looks the batch up by externalId first (one list call), edits the ones that exist and
uploads the rest (`/customers/upload`, 50 per call; a partial failure is HTTP 460 with the failed
ones named). An upload whose answer was lost is looked up on the next attempt, not repeated; a
repeat would fail anyway, externalIds being unique per site. Updates are one `edit` call per
record (RetailCRM has no bulk edit). The API cannot delete or archive customers: an erasure
blanks the person's data instead, and merges are left for RetailCRM's own "combine".
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from connectors.retailcrm.client import RetailCrmClient, open_client
from sync.push.destination import Delivered, DestinationSettings, Missing, OutboundItem, Outcome, Rejected, WriterStats
from sync.push.retries import ApiError, RetryPolicy

__all__ = ["RetailCrmDestination", "open_destination"]

UPLOAD_LIMIT = 50
FIELDS = ("firstName", "lastName", "patronymic", "email", "phones", "birthday", "sex", "commentary", "vip", "bad",
          "address.countryIso", "address.region", "address.city", "address.index", "address.text",
          "contragent.legalName", "customFields")
_ERASED = {"firstName": "", "lastName": "", "patronymic": "", "email": "", "phones": [], "birthday": None,
           "address": {"text": "", "city": "", "region": "", "index": ""}}


class RetailCrmDestination:
    """Writes RetailCRM customers for the push engine."""

    supports_merge = False
    unique_fields: tuple[str, ...] = ()

    def __init__(self, client: RetailCrmClient, *, name: str = "retailcrm", batch_size: int = UPLOAD_LIMIT) -> None:
        self.client = client
        self.name = name
        self.batch_size = min(batch_size, UPLOAD_LIMIT)
        self.stats: WriterStats = client.stats

    def close(self) -> None:
        self.client.close()

    def prepare(self, fields: Sequence[str]) -> None:
        unknown = [f for f in fields if f not in FIELDS and not f.startswith("customFields.")]
        if unknown:
            hints = [f"{n!r}" + (f" (did you mean {c[0]!r}?)" if (c := difflib.get_close_matches(n, FIELDS, n=1))
                                 else "") for n in unknown]
            raise ValueError(f"destination {self.name!r}: the outbound mapping writes {', '.join(hints)}, which "
                             "RetailCRM customers do not have; fix the mapping")

    @staticmethod
    def customer(item: OutboundItem) -> dict[str, Any]:
        """The customer object: dotted targets nest (`address.city`), phones become `[{number}]`."""
        body: dict[str, Any] = {"externalId": item.key}
        for name, value in item.properties.items():
            if name == "phones":
                value = [{"number": v} for v in (value if isinstance(value, list) else [value])]
            group, _, member = name.partition(".")
            if member:
                body.setdefault(group, {})[member] = value
            else:
                body[name] = value
        return body

    def _edit(self, item: OutboundItem) -> Outcome:
        try:
            self.client.request("POST", f"/customers/{item.remote_id}/edit",
                                form={"customer": self.customer(item), "by": "id"})
        except ApiError as error:
            if error.status == 404:
                return Missing(item.key, str(item.remote_id))
            if error.status >= 500:
                raise
            return Rejected(item.key, error.message, "VALIDATION_ERROR")
        return Delivered(item.key, str(item.remote_id))

    def update(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        return [self._edit(item) for item in items]

    def create(self, items: Sequence[OutboundItem]) -> list[Outcome]:
        found = self.client.request("GET", "/customers", query={
            "filter": {"externalIds": [i.key for i in items]}, "limit": 100}).get("customers") or []
        existing = {str(c["externalId"]): str(c["id"]) for c in found if c.get("externalId")}
        outcomes: dict[str, Outcome] = {}
        for item in items:
            if item.key in existing:
                outcome = self._edit(OutboundItem(item.key, item.properties, existing[item.key]))
                outcomes[item.key] = outcome
        fresh = [i for i in items if i.key not in existing]
        if fresh:
            body = self.client.request("POST", "/customers/upload", idempotent=False, accept=(460,),
                                       form={"customers": [self.customer(i) for i in fresh]})
            for done in body.get("uploadedCustomers") or []:
                outcomes[str(done.get("externalId"))] = Delivered(str(done["externalId"]), str(done["id"]),
                                                                  created=True)
            errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
            for index, item in enumerate(fresh):
                if item.key not in outcomes:
                    why = errors.get(str(index)) or body.get("errorMsg") or "not uploaded"
                    outcomes[item.key] = Rejected(item.key, f"{body.get('errorMsg', 'upload failed')}: {why}",
                                                  "VALIDATION_ERROR")
        return [outcomes.get(i.key) or Rejected(i.key, "RetailCRM's answer did not mention this record", "NO_RESULT")
                for i in items]

    def merge(self, primary_remote_id: str, other_remote_id: str) -> str:
        raise NotImplementedError("RetailCRM merges are not pushed (supports_merge is False)")

    def archive(self, remote_ids: Sequence[str]) -> None:
        raise ApiError(405, "RetailCRM's API v5 cannot delete or archive a customer: combine the duplicate in "
                       "RetailCRM (Customers → Combine), or set on_retired: keep", category="NOT_SUPPORTED")

    def erase(self, remote_ids: Sequence[str]) -> None:
        for remote in remote_ids:
            try:
                self.client.request("POST", f"/customers/{remote}/edit", form={"customer": _ERASED, "by": "id"})
            except ApiError as error:
                if error.status != 404:
                    raise


def open_destination(settings: DestinationSettings) -> RetailCrmDestination:
    """The writer for one configured destination: base_url, `token` = the API key, options.site."""
    key = settings.token.get_secret_value() if settings.token is not None else None
    limits = settings.rate_limit if "rate_limit" in settings.model_fields_set else None
    policy = RetryPolicy(**settings.options["retry"]) if "retry" in settings.options else None
    client = open_client(base_url=settings.base_url, api_key=key, site=settings.options.get("site"),
                         rate_limit=limits, account=settings.account, timeout=settings.timeout_seconds, policy=policy)
    return RetailCrmDestination(client, name=settings.name, batch_size=settings.batch_size or UPLOAD_LIMIT)
