"""Typeform responses: an Airbyte source, its answer flattening (shared with the webhook) and an emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.typeform.source import TypeformConfig, TypeformSource, iter_airbyte_messages

__all__ = ["TypeformConfig", "TypeformSource", "iter_airbyte_messages"]


def __getattr__(name: str) -> Any:
    # airbyte-cdk loads on first use; the webhook imports only connectors.typeform.answers.
    if name in __all__:
        from connectors.typeform import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.typeform' has no attribute {name!r}")
