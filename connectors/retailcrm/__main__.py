"""Airbyte entrypoint: ``python -m connectors.retailcrm spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.retailcrm.source import RetailCrmSource


def main() -> None:
    """Run the RetailCRM source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(RetailCrmSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
