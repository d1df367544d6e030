"""Bundled, realistic and deliberately messy sample data (see README.md here)."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR: Path = Path(__file__).resolve().parent / "data"

__all__ = ["SAMPLES_DIR"]
