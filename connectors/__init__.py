"""Connectors to outside systems, one sub-package per system (see DESIGN.md)."""
