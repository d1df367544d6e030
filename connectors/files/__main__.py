"""Airbyte entrypoint: ``python -m connectors.files spec|check|discover|read ...``."""

from __future__ import annotations

import logging
import sys

from airbyte_cdk.entrypoint import launch

from connectors.files.source import FilesSource


def main() -> None:
    """Run the files source with the command-line arguments."""
    # Our modules log under "connectors."; the CDK's root handler turns them into LOG messages.
    logging.getLogger("connectors").setLevel(logging.INFO)
    launch(FilesSource(), sys.argv[1:])


if __name__ == "__main__":
    main()
