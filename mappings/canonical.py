"""The canonical customer and interaction: the one shape every source is mapped onto."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Address",
    "Consent",
    "Customer",
    "Interaction",
    "InteractionKind",
    "SourceRef",
    "content_hash",
    "hash_and_json",
    "plain_content_hash",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class SourceRef(_Model):
    """Where a record came from: the key of a source record in the store."""

    source: str
    stream: str
    source_record_id: str

    def key(self) -> tuple[str, str, str]:
        return (self.source, self.stream, self.source_record_id)

    def __str__(self) -> str:
        return f"{self.source}/{self.stream}/{self.source_record_id}"


class Address(_Model):
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 where known

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


class Consent(_Model):
    """Marketing consent per channel; None means 'not stated by the source'."""

    email: bool | None = None
    sms: bool | None = None
    phone: bool | None = None


class Customer(_Model):
    """A person as one source knows them, in canonical form."""

    ref: SourceRef
    source_updated_at: datetime | None = None

    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    patronymic: str | None = None
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)  # E.164
    company: str | None = None
    job_title: str | None = None
    address: Address = Field(default_factory=Address)
    birth_date: date | None = None
    locale: str | None = None
    consent: Consent = Field(default_factory=Consent)
    tags: list[str] = Field(default_factory=list)
    custom: dict[str, str] = Field(default_factory=dict)

    def has_identity(self, identifiers: Sequence[str] = ()) -> bool:
        """True when the record carries anything a person could be found by: a name, an e-mail, a phone,
        or a value in one of `identifiers` (custom fields declared to identify a person exactly)."""
        return bool(self.emails or self.phones or self.full_name or self.family_name
                    or any(self.custom.get(name) for name in identifiers))


class InteractionKind(StrEnum):
    CALL = "call"
    FORM_SUBMISSION = "form_submission"
    EMAIL = "email"
    NOTE = "note"


class Interaction(_Model):
    """A contact event (a call, a form submission) attached to a customer by phone or e-mail."""

    ref: SourceRef
    kind: InteractionKind
    occurred_at: datetime | None = None
    direction: str | None = None  # inbound | outbound
    status: str | None = None  # answered, missed, ...
    duration_seconds: int | None = None
    phone: str | None = None  # E.164 of the customer's side
    email: str | None = None
    subject: str | None = None
    body: str | None = None
    custom: dict[str, str] = Field(default_factory=dict)


def content_hash(payload: Any) -> str:
    """A stable SHA-256 of a JSON-able payload (keys sorted), used to skip unchanged writes."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Anything orjson would write differently from json.dumps(default=str) must reach the fallback:
# datetimes, dataclasses and str/int subclasses (enums) are passed to `default`, which refuses.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _refuse(value: Any) -> Any:
    raise TypeError


def plain_content_hash(payload: Any) -> str:
    """content_hash, faster, for payloads of str, int, bool, None, lists and dicts (no floats, no enums).

    Same digest as content_hash: for these types orjson's sorted compact UTF-8 output is the
    bytes json.dumps gives. Floats and Enum members (printed differently) are the caller's to
    keep out; datetimes, str subclasses and the like fall back to content_hash.
    """
    try:
        return hashlib.sha256(orjson.dumps(payload, default=_refuse, option=_ORJSON_OPTIONS)).hexdigest()
    except TypeError:  # datetimes, enums, non-str keys, ints beyond 64 bits
        return content_hash(payload)


_OPEN = b'{"canonical":'
_MIDDLE = b',"raw":'


def hash_and_json(raw: dict[str, Any], canonical: dict[str, Any]) -> tuple[str, str]:
    """content_hash({"raw": raw, "canonical": canonical}) and the canonical record as JSON text, together.

    The hash's JSON is the two parts' sorted compact JSON side by side, so the canonical part
    is serialised once for both (the stored text then has its keys sorted: the same data).
    Values that plain_content_hash leaves to content_hash take the same way here.
    """
    try:
        canonical_json = orjson.dumps(canonical, default=_refuse, option=_ORJSON_OPTIONS)
        raw_json = orjson.dumps(raw, default=_refuse, option=_ORJSON_OPTIONS)
    except TypeError:
        return (content_hash({"raw": raw, "canonical": canonical}),
                json.dumps(canonical, ensure_ascii=False, default=str))
    digest = hashlib.sha256(b"".join((_OPEN, canonical_json, _MIDDLE, raw_json, b"}"))).hexdigest()
    return digest, canonical_json.decode("utf-8")
