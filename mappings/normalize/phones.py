"""Phone match keys: E.164 with the extension kept apart, and obviously fake numbers flagged."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from mappings.normalize._text import coerce_text, memoize

__all__ = ["PhoneParts", "phone_key", "phone_parts"]


@dataclass(frozen=True)
class PhoneParts:
    """One parsed phone number: E.164 without the extension, the extension, a fake flag."""

    e164: str
    extension: str
    is_fake: bool


# Extensions phonenumbers does not read itself (it knows ext, x, #, доб).
_EXTENSION = re.compile(
    r"[\s,;(]*(?:ext|extn|extension|x|#|доб|добавочный|вн|внутр|int|durchwahl|dw|poste)"
    r"\s*[.:]?\s*(\d{1,8})\s*\)?\s*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
_NON_DIGITS = re.compile(r"\D+")
_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"
_MIN_NATIONAL_DIGITS = 6
_MAX_TEXT = 120


def _is_run(digits: str) -> bool:
    return digits in _ASCENDING or digits in _DESCENDING


def _is_fake(number: phonenumbers.PhoneNumber, national: str) -> bool:
    if len(national) < _MIN_NATIONAL_DIGITS:
        return True
    if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.TOO_SHORT:
        return True
    if len(set(national)) == 1 or _is_run(national):
        return True
    # NANP reserves 555-0100 .. 555-0199 for fiction
    return number.country_code == 1 and len(national) == 10 and national[3:8] == "55501"


def _region(region: str | None) -> str | None:
    if not region:
        return None
    code = region.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


@memoize(1 << 16)
def phone_parts(text: str | None, region: str | None = None) -> PhoneParts | None:
    """Parse a phone number (extension apart, 'x12', 'доб. 12'); None when it is not a number."""
    raw = coerce_text(text).strip()
    if not raw or len(raw) > _MAX_TEXT or not _DIGITS.search(raw):
        return None
    extension = ""
    match = _EXTENSION.search(raw)
    if match and match.start() > 0:
        extension, raw = match.group(1), raw[: match.start()]
    default_region = _region(region)
    if default_region is None and raw.startswith("00"):
        raw = "+" + raw[2:]  # international prefix without a region to interpret it
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    if not national:
        return None
    extension = extension or (number.extension or "")
    number.extension = None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return PhoneParts(e164=e164, extension=extension, is_fake=_is_fake(number, national))


@memoize(1 << 16)
def phone_key(e164: str) -> str:
    """The last 9 digits of the national significant number, to match with or without a country code."""
    text = coerce_text(e164).strip()
    if not text:
        return ""
    national = ""
    if text.startswith("+"):
        try:
            national = phonenumbers.national_significant_number(phonenumbers.parse(text, None))
        except NumberParseException:
            national = ""
    if not national:
        national = _NON_DIGITS.sub("", text)
    return national[-9:]
