"""Asterisk `cdr_csv` lines (contract 7b): the standard column layout, no header, one call per line.

Pure parsing, no Airbyte: a line in, a typed row or the reason it cannot be one out.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["BASE_COLUMNS", "CdrError", "CdrRow", "columns_for", "direction_of", "parse_line"]

BASE_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
_DATE_COLUMNS = ("start", "answer", "end")
_INT_COLUMNS = ("duration", "billsec")


class CdrError(ValueError):
    """A line is not a cdr_csv record; the message says what is wrong with it."""


@dataclass(frozen=True)
class CdrRow:
    """One call record: the columns as written, and the start time made timezone-aware."""

    values: dict[str, str | None]
    started_at: datetime
    record_id: str


def columns_for(count: int, extra: tuple[str, ...] | None) -> tuple[str, ...]:
    """The column names of a line with `count` fields: 16 standard, then uniqueid and userfield if logged."""
    if extra is not None:
        names = BASE_COLUMNS + extra
        if count != len(names):
            raise CdrError(f"has {count} fields, expected {len(names)} ({', '.join(names[16:]) or 'no extra'} "
                           "after the 16 standard ones); fix extra_columns")
        return names
    if count == 16:
        return BASE_COLUMNS
    if count == 17:
        return (*BASE_COLUMNS, "uniqueid")
    if count == 18:
        return (*BASE_COLUMNS, "uniqueid", "userfield")
    raise CdrError(f"has {count} fields; a cdr_csv line has 16, 17 (uniqueid) or 18 (uniqueid, userfield)")


def parse_line(line: str, *, timezone: ZoneInfo, extra: tuple[str, ...] | None = None) -> CdrRow:
    """Parse one line (without its newline); raises CdrError naming the bad field."""
    try:
        (fields,) = list(csv.reader([line], strict=True))
    except (csv.Error, ValueError) as exc:
        raise CdrError(f"is not valid CSV ({exc})") from None
    names = columns_for(len(fields), extra)
    values: dict[str, str | None] = {name: (value if value != "" else None) for name, value in zip(names, fields,
                                                                                                 strict=True)}
    for name in _INT_COLUMNS:
        value = values[name]
        if value is not None and not value.lstrip("-").isdigit():
            raise CdrError(f"field {name} is {value!r}, not a whole number of seconds")
    parsed: dict[str, datetime] = {}
    for name in _DATE_COLUMNS:
        value = values[name]
        if value is None:
            continue
        try:
            parsed[name] = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone)
        except ValueError:
            raise CdrError(f"field {name} is {value!r}, not a 'YYYY-MM-DD HH:MM:SS' time") from None
    if "start" not in parsed:
        raise CdrError("field start is empty: every CDR has a start time")
    digest = hashlib.sha256(line.encode("utf-8")).hexdigest()
    unique = values.get("uniqueid")
    record_id = f"{unique}-{digest[:8]}" if unique else digest[:24]
    return CdrRow(values, parsed["start"], record_id)


def _digits(number: str | None) -> str:
    return "".join(ch for ch in number or "" if ch.isdigit())


def direction_of(values: dict[str, str | None], *, outbound_contexts: frozenset[str], extension_digits: int) -> str:
    """inbound, outbound or internal, from the numbers' lengths (an extension is short).

    From an extension to an extension is internal, from an extension to a longer number is
    outbound, from a longer number is inbound. Without a caller number (withheld), a call
    handled in one of `outbound_contexts` (the phones' dialplan context) counts as outbound.
    """
    src, dst = _digits(values.get("src")), _digits(values.get("dst"))
    src_is_extension = 0 < len(src) <= extension_digits
    dst_is_extension = 0 < len(dst) <= extension_digits
    if src_is_extension:
        return "internal" if dst_is_extension else "outbound"
    if src:
        return "inbound"
    return "outbound" if (values.get("dcontext") or "") in outbound_contexts and not dst_is_extension else "inbound"
