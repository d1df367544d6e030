"""Webhook authentication: Typeform-Signature, Standard Webhooks (with a replay window), URL token.

Every comparison is constant-time and runs over the raw body bytes exactly as received.
Error messages say what was wrong and what the sender must send, never the expected value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from connectors.webforms.config import SignatureMode

__all__ = [
    "SignatureError",
    "sign_standard",
    "sign_typeform",
    "standard_key",
    "verify_request",
]

TYPEFORM_HEADER = "typeform-signature"
STANDARD_ID = "webhook-id"
STANDARD_TIMESTAMP = "webhook-timestamp"
STANDARD_SIGNATURE = "webhook-signature"
_WHSEC = "whsec_"


class SignatureError(ValueError):
    """The request is not authentic (missing or wrong signature, stale timestamp): answer 401."""


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode("ascii")


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: `whsec_<base64>` decodes, any other text is used as is."""
    if secret.startswith(_WHSEC):
        try:
            return base64.b64decode(secret[len(_WHSEC):], validate=True)
        except (binascii.Error, ValueError):
            pass  # not base64 after all: use the text
    return secret.encode("utf-8")


def sign_typeform(secret: str, body: bytes) -> str:
    """The `Typeform-Signature` header value for a body: `sha256=` + base64 HMAC-SHA256."""
    return "sha256=" + _b64_hmac(secret.encode("utf-8"), body)


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (`v1,<base64>`) for a Standard Webhooks message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + _b64_hmac(standard_key(secret), signed)


def _verify_typeform(secret: str, body: bytes, header: str) -> None:
    scheme, _, given = header.strip().partition("=")
    if scheme != "sha256" or not given:
        raise SignatureError("Typeform-Signature must look like 'sha256=<base64 HMAC-SHA256 of the body>'")
    expected = sign_typeform(secret, body).partition("=")[2]
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureError("Typeform-Signature does not match the body: check the form's webhook secret")


def _verify_standard(secret: str, body: bytes, headers: Mapping[str, str], window: int, now: float) -> None:
    message_id = headers.get(STANDARD_ID, "").strip()
    raw_timestamp = headers.get(STANDARD_TIMESTAMP, "").strip()
    signatures = headers.get(STANDARD_SIGNATURE, "").strip()
    if not message_id or not raw_timestamp:
        raise SignatureError("a webhook-signature needs webhook-id and webhook-timestamp headers too")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be unix seconds (an integer)") from None
    if abs(now - timestamp) > window:
        raise SignatureError(
            f"webhook-timestamp is {int(now - timestamp)} s from the server's clock, outside the "
            f"{window} s replay window: re-sign with the current time (and check the sender's clock)")
    expected = sign_standard(secret, message_id, timestamp, body).encode("ascii")
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode("ascii", "replace"), expected):
            return
    raise SignatureError("webhook-signature does not match: expected 'v1,<base64 HMAC-SHA256 of "
                         "id.timestamp.body>' made with this source's secret")


def verify_request(
    mode: SignatureMode,
    secret: str | None,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    *,
    window: int = 300,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless the request authenticates under `mode`; headers are lower-case."""
    if mode == "none":
        return
    if secret is None:
        raise SignatureError("this source has no secret configured, so it cannot verify posts")
    clock = time.time() if now is None else now
    if mode == "token":
        token = query.get("token", "")
        if not token or not hmac.compare_digest(token.encode("utf-8", "replace"), secret.encode("utf-8")):
            raise SignatureError("missing or wrong ?token= in the webhook URL")
        return
    has_standard = STANDARD_SIGNATURE in headers
    has_typeform = TYPEFORM_HEADER in headers
    if mode == "standard" or (mode == "auto" and has_standard):
        if not has_standard:
            raise SignatureError("missing webhook-signature header (Standard Webhooks)")
        _verify_standard(secret, body, headers, window, clock)
        return
    if has_typeform:
        _verify_typeform(secret, body, headers[TYPEFORM_HEADER])
        return
    expected = ("a Typeform-Signature header" if mode == "typeform" else
                "a Typeform-Signature header, or webhook-id, webhook-timestamp and webhook-signature headers")
    raise SignatureError(f"missing signature: send {expected}")
