"""JotForm submissions: an Airbyte source, its answer flattening (shared with the webhook) and an emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.jotform.source import JotformConfig, JotformSource, iter_airbyte_messages

__all__ = ["JotformConfig", "JotformSource", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use; the webhook imports only connectors.jotform.answers.
    if name in __all__:
        from connectors.jotform import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.jotform' has no attribute {name!r}")
