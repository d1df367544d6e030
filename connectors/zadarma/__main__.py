"""Airbyte entrypoint: ``python -m connectors.zadarma spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.zadarma.source import ZadarmaSource


def main() -> None:
    """Run the Zadarma PBX calls source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(ZadarmaSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
