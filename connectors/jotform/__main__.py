"""Airbyte entrypoint: ``python -m connectors.jotform spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.jotform.source import JotformSource


def main() -> None:
    """Run the JotForm submissions source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(JotformSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
