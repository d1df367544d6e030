"""Zadarma PBX calls: an Airbyte source over the signed statistics API, and a local emulator of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.zadarma.source import ZadarmaConfig, ZadarmaSource, iter_airbyte_messages, sign

__all__ = ["ZadarmaConfig", "ZadarmaSource", "iter_airbyte_messages", "sign"]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use (see connectors/__init__.py for why that matters).
    if name in __all__:
        from connectors.zadarma import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.zadarma' has no attribute {name!r}")
