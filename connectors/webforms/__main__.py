"""Airbyte entrypoint: ``python -m connectors.webforms spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.webforms.source import WebformsSource


def main() -> None:
    """Run the web-form inbox source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(WebformsSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
