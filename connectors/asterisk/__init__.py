"""Asterisk CDR CSV: an Airbyte source over the cdr_csv file (calls → interactions); parsing in cdr.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.asterisk.cdr import BASE_COLUMNS, CdrError, CdrRow, parse_line

if TYPE_CHECKING:
    from connectors.asterisk.source import AsteriskConfig, AsteriskSource, iter_airbyte_messages

__all__ = [
    "BASE_COLUMNS",
    "AsteriskConfig",
    "AsteriskSource",
    "CdrError",
    "CdrRow",
    "iter_airbyte_messages",
    "parse_line",
]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use (see connectors/__init__.py for why that matters).
    if name in ("AsteriskConfig", "AsteriskSource", "iter_airbyte_messages"):
        from connectors.asterisk import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.asterisk' has no attribute {name!r}")
