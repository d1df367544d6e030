"""amoCRM / Kommo API v4: an Airbyte source, a destination writer for the push engine, and a local emulator.

See README.md here. The Airbyte source is loaded on first use (importing airbyte-cdk is slow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.amocrm.source import AmoSource, AmoSourceConfig, iter_airbyte_messages

__all__ = ["AmoSource", "AmoSourceConfig", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from connectors.amocrm import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.amocrm' has no attribute {name!r}")
