"""Connectors register by folder: `connectors/<name>/` exporting `iter_airbyte_messages`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:  # importing airbyte_cdk costs a second; only the stages that read need it
    from airbyte_cdk.models import AirbyteMessage

__all__ = ["ConnectorModule", "available_connectors", "load_connector"]

_ROOT = Path(__file__).parent


class ConnectorModule(Protocol):
    """What crmsync needs from a connector package to run its source in-process."""

    def iter_airbyte_messages(
        self, config: dict[str, Any], streams: list[str] | None, state: dict[str, dict[str, Any]] | None
    ) -> Iterator[AirbyteMessage]: ...


def available_connectors() -> list[str]:
    """Names of the connector folders that can run in-process."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(_ROOT)])
        if info.ispkg and (_ROOT / info.name / "source.py").exists()
    )


def load_connector(name: str) -> ConnectorModule:
    """Import `connectors.<name>`; a clear error if there is no such connector."""
    if name not in available_connectors():
        raise LookupError(f"unknown connector {name!r}; available: {', '.join(available_connectors())}")
    module: ModuleType = importlib.import_module(f"connectors.{name}")
    if not hasattr(module, "iter_airbyte_messages"):
        raise LookupError(f"connectors.{name} does not export iter_airbyte_messages")
    return cast(ConnectorModule, module)
