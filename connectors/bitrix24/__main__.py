"""Airbyte entrypoint: ``python -m connectors.bitrix24 spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.bitrix24.source import Bitrix24Source


def main() -> None:
    """Run the Bitrix24 source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(Bitrix24Source(), sys.argv[1:])


if __name__ == "__main__":
    main()
