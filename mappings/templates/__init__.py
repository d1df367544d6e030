"""Mapping templates for the bundled connectors: copy one next to crmsync.yaml and adjust `from:`."""

from __future__ import annotations

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent

__all__ = ["TEMPLATES_DIR"]
