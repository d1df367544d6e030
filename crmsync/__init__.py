"""crmsync: CRM integration and data-sync middleware (the application shell: CLI, config, web)."""

from __future__ import annotations

__version__ = "0.1.0"
