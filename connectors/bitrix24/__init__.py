"""Bitrix24 REST: an Airbyte source (contacts and companies, incremental, deletions included), a destination
writer for the push engine (batch of 50, multi-fields by item id) and a local emulator of the inbound-webhook
API. See README.md here. The Airbyte source is loaded on first use (importing airbyte-cdk is slow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.bitrix24.source import Bitrix24Source, iter_airbyte_messages

__all__ = ["Bitrix24Source", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from connectors.bitrix24 import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.bitrix24' has no attribute {name!r}")
