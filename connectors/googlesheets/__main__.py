"""Airbyte entrypoint: ``python -m connectors.googlesheets spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.googlesheets.source import GoogleSheetsSource


def main() -> None:
    """Run the Google Sheets source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(GoogleSheetsSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
