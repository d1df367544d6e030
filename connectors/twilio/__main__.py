"""Airbyte entrypoint: ``python -m connectors.twilio spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.twilio.source import TwilioSource


def main() -> None:
    """Run the Twilio Calls source with the command-line arguments."""
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(TwilioSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
