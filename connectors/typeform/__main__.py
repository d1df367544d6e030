"""Airbyte entrypoint: ``python -m connectors.typeform spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.typeform.source import TypeformSource


def main() -> None:
    """Run the Typeform responses source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(TypeformSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
