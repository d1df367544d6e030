"""Airbyte entrypoint: ``python -m connectors.asterisk spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.asterisk.source import AsteriskSource


def main() -> None:
    """Run the Asterisk CDR CSV source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(AsteriskSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
