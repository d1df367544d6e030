"""Twilio Calls: an Airbyte source (calls → interactions) and a local emulator of the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.twilio.source import TwilioConfig, TwilioSource, iter_airbyte_messages

__all__ = ["TwilioConfig", "TwilioSource", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use (see connectors/__init__.py for why that matters).
    if name in __all__:
        from connectors.twilio import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.twilio' has no attribute {name!r}")
