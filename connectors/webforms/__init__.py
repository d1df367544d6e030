"""Web forms: the webhook inbox's payload parsing and signatures, and an Airbyte source over the inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.webforms.config import WebformsConfig, parse_webforms_config
from connectors.webforms.payloads import ParsedSubmission, PayloadError, UnsupportedMediaType, parse_submission
from connectors.webforms.signatures import SignatureError, sign_standard, sign_typeform, verify_request

if TYPE_CHECKING:
    from connectors.webforms.source import WebformsSource, iter_airbyte_messages

__all__ = [
    "ParsedSubmission",
    "PayloadError",
    "SignatureError",
    "UnsupportedMediaType",
    "WebformsConfig",
    "WebformsSource",
    "iter_airbyte_messages",
    "parse_submission",
    "parse_webforms_config",
    "sign_standard",
    "sign_typeform",
    "verify_request",
]


def __getattr__(name: str) -> Any:
    # The web app imports the parsing and signature code; the Airbyte source loads on first use.
    if name in ("WebformsSource", "iter_airbyte_messages"):
        from connectors.webforms import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.webforms' has no attribute {name!r}")
