"""RetailCRM API v5: an Airbyte source (customers and corporate customers through the history, deletions
included), a destination writer for the push engine (externalId upserts) and a local emulator. See README.md
here. The Airbyte source is loaded on first use (importing airbyte-cdk is slow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.retailcrm.source import RetailCrmSource, iter_airbyte_messages

__all__ = ["RetailCrmSource", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from connectors.retailcrm import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.retailcrm' has no attribute {name!r}")
