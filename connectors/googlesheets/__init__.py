"""Google Sheets: an Airbyte source over the Sheets values API, and a local emulator of that API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.googlesheets.source import GoogleSheetsConfig, GoogleSheetsSource, iter_airbyte_messages

__all__ = ["GoogleSheetsConfig", "GoogleSheetsSource", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use (see connectors/__init__.py for why that matters).
    if name in __all__:
        from connectors.googlesheets import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.googlesheets' has no attribute {name!r}")
