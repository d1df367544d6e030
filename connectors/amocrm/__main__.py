"""Airbyte entrypoint: ``python -m connectors.amocrm spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.amocrm.source import AmoSource


def main() -> None:
    """Run the amoCRM source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(AmoSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
