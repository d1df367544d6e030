"""Airbyte entrypoint: ``python -m connectors.hubspot spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.hubspot.source import HubSpotSource


def main() -> None:
    """Run the HubSpot source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(HubSpotSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
