"""Pieces the HTTP and inbox sources share: typed config parsing, cursor streams, a retrying client.

Not a connector (it has no `source.py`, so the registry does not list it).
"""

from __future__ import annotations
