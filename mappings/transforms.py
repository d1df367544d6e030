"""Value transforms a mapping may name: a closed registry, no eval.

Each transform takes the current value (usually a string from the source) and the row context
and returns the new value, or raises TransformError with a reason a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from dateutil import parser as date_parser
from email_validator import EmailNotValidError, validate_email

__all__ = [
    "TRANSFORMS",
    "RowContext",
    "TransformError",
    "normalize_country",
    "normalize_email",
    "normalize_phone",
    "split_person_name",
]


class TransformError(ValueError):
    """A value could not be transformed; the message says why."""


@dataclass(frozen=True)
class RowContext:
    """What a transform may know besides its value: the whole row and mapping defaults."""

    row: Mapping[str, Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)


Transform = Callable[[Any, Mapping[str, Any], RowContext], Any]
TRANSFORMS: dict[str, Transform] = {}


def _register(name: str) -> Callable[[Transform], Transform]:
    def wrap(fn: Transform) -> Transform:
        TRANSFORMS[name] = fn
        return fn

    return wrap


def _preview(value: Any, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


_SPACES = re.compile(r"\s+")


def clean_text(value: Any) -> str | None:
    """NFC-normalise, trim and collapse inner whitespace; empty becomes None."""
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


@_register("trim")
def _trim(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    return clean_text(value)


@_register("lower")
def _lower(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    return value.lower() if isinstance(value, str) else value


@_register("upper")
def _upper(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    return value.upper() if isinstance(value, str) else value


_LIST_SPLIT = re.compile(r"[;,\n]+")


# The common shape of an address, checked without the full RFC machinery: ASCII, no leading,
# trailing or doubled dots, a dotted domain with a letter TLD. Anything else takes the full check.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


@lru_cache(maxsize=200_000)
def normalize_email(text: str) -> str:
    """Trim, lowercase and syntax-check one e-mail address (no DNS look-up)."""
    candidate = text.strip().strip("<>").strip().lower()
    if len(candidate) <= 254 and _PLAIN_EMAIL.fullmatch(candidate) and len(candidate.partition("@")[0]) <= 64:
        return candidate
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise TransformError(f"{_preview(text)} is not a valid e-mail address ({exc})") from None


@_register("email")
def _email(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return []
    return [normalize_email(part) for part in _LIST_SPLIT.split(text) if part.strip()]


_PHONE_SPLIT = re.compile(r"[;,/\n]+|\s{2,}")


# Plain digits with the usual separators and at most a leading '+': for these, phonenumbers.parse
# depends only on the digits, so the common shapes can skip its general parser (see _fast_e164).
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().-]*[0-9][0-9 ().-]*")
_NOT_DIGIT = re.compile(r"[^0-9]")


@lru_cache(maxsize=64)
def _prefix_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# the commonest types first: _has_type only asks whether any of them fits
_TYPE_DESCS = ("mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
               "pager", "uan", "voicemail")
_Desc = tuple[frozenset[int], re.Pattern[str]]


@dataclass(frozen=True)
class _RegionRules:
    leading_digits: re.Pattern[str] | None
    general: _Desc | None
    types: tuple[_Desc, ...]


def _desc(desc: Any) -> _Desc | None:
    if desc is None or desc.national_number_pattern is None:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=512)
def _region_rules(region: str) -> _RegionRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPE_DESCS) if d is not None)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
    return _RegionRules(leading, _desc(metadata.general_desc), types)


def _matches(nsn: str, desc: _Desc | None) -> bool:
    return desc is not None and (not desc[0] or len(nsn) in desc[0]) and desc[1].fullmatch(nsn) is not None


def _has_type(nsn: str, rules: _RegionRules) -> bool:
    return _matches(nsn, rules.general) and any(_matches(nsn, d) for d in rules.types)


def _is_valid(code: int, nsn: str) -> bool:
    """phonenumbers.is_valid_number for a geographic calling code, from its compiled patterns.

    The same decision as phonenumbers makes: the number belongs to the first region of the
    calling code whose leading digits match or that has a type for it, and is valid when that
    region has a type (fixed line, mobile, toll free, ...) for it. The property test in
    tests/app/test_ingest_fast_path.py holds this equal to the library.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if len(regions) == 1:
        only = _region_rules(regions[0])
        return only is not None and _has_type(nsn, only)
    for region in regions:
        rules = _region_rules(region)
        if rules is None:
            continue
        if rules.leading_digits is not None:
            if rules.leading_digits.match(nsn):
                return _has_type(nsn, rules)
        elif _has_type(nsn, rules):
            return True
    return False


@dataclass(frozen=True)
class _Plan:
    """What parse needs of one region's metadata, looked up once."""

    code: int
    code_text: str
    international: re.Pattern[str] | None
    national: re.Pattern[str] | None
    usable: bool  # False: its national prefix rule captures or transforms; leave it to the full parser


@lru_cache(maxsize=512)
def _plan(region: str) -> _Plan | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    national = re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else None
    return _Plan(metadata.country_code, str(metadata.country_code),
                 re.compile(metadata.international_prefix) if metadata.international_prefix else None,
                 national, not metadata.national_prefix_transform_rule and (national is None or national.groups == 0))


@lru_cache(maxsize=512)
def _plan_for_code(code: int) -> _Plan | None:
    main = phonenumbers.region_code_for_country_code(code)
    if main == phonenumbers.UNKNOWN_REGION or main == "001":  # non-geographic codes: the full parser
        return None
    return _plan(main)


def _fast_e164(text: str, region: str | None) -> str | None:
    """E.164 of a valid number in a common plain shape, exactly as phonenumbers gives it; else None.

    Follows phonenumbers.parse for text of digits and separators: the calling code after '+'
    (or the region's), then its national prefix ('8' in RU, '0' in GB, '1' in US). Every shape
    where parse might decide otherwise (an international dialling prefix, the calling code
    written without '+', prefix rules with capture groups, leading zeros, anything invalid)
    returns None, and the caller takes the full parser, so results and messages are unchanged.
    """
    if not _PLAIN_PHONE.fullmatch(text):
        return None
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) < 3:
        return None
    if text[0] == "+":
        if digits[0] == "0":
            return None
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        plan = _plan_for_code(code)
        national = digits[size:]
    else:
        plan = _plan(region) if region else None  # phonenumbers wants upper case: "us" is no region
        if plan is None or digits.startswith(plan.code_text) \
                or (plan.international is not None and plan.international.match(digits)):
            return None
        national = digits
    if plan is None or not plan.usable or len(national) < 2:
        return None
    if plan.national is not None:
        prefix = plan.national.match(national)
        if prefix:
            national = national[prefix.end():]
    if not national or national[0] == "0" or len(national) > 17 or not _is_valid(plan.code, national):
        return None
    return f"+{plan.code_text}{national}"


@lru_cache(maxsize=200_000)
def normalize_phone(text: str, region: str | None) -> str:
    """Parse one phone number to E.164; a national number needs a region."""
    fast = _fast_e164(text, region)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = re.sub(r"^\(\d+\)\s*", "", str(exc)).rstrip(".").lower()
        raise TransformError(
            f"{_preview(text)} is not a phone number ({reason}; default region {region or 'none'})"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise TransformError(
            f"{_preview(text)} is not a valid phone number for region "
            f"{phonenumbers.region_code_for_number(number) or region or 'unknown'}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _row_region(options: Mapping[str, Any], ctx: RowContext) -> str | None:
    column = options.get("region_from")
    if column:
        hinted = normalize_country(ctx.row.get(column))
        if hinted:
            return hinted
    return options.get("region") or ctx.defaults.get("phone_region")


def _phone_with_fallbacks(text: str, region: str | None, fallbacks: list[str]) -> str:
    try:
        return normalize_phone(text, region)
    except TransformError:
        if text.lstrip().startswith("+"):
            raise
        for other in fallbacks:  # a national number valid in exactly the next listed country
            try:
                return normalize_phone(text, other)
            except TransformError:
                continue
        raise


@_register("phone")
def _phone(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    """Phones to E.164: region from `region_from` column, `region`, or defaults; then `fallback_regions`."""
    text = clean_text(value)
    if text is None:
        return []
    region = _row_region(options, ctx)
    fallbacks = options.get("fallback_regions", ctx.defaults.get("phone_fallback_regions", []))
    parts = [part for part in _PHONE_SPLIT.split(text) if part.strip()]
    phones = [_phone_with_fallbacks(part, region, [str(r) for r in fallbacks]) for part in parts]
    return list(dict.fromkeys(phones))


_COUNTRY_ALIASES = {
    "россия": "RU", "рф": "RU", "russia": "RU", "usa": "US", "u.s.a.": "US", "сша": "US",
    "uk": "GB", "england": "GB", "great britain": "GB", "deutschland": "DE", "германия": "DE",
    "грузия": "GE", "საქართველო": "GE", "индия": "IN", "भारत": "IN", "казахстан": "KZ",
    "украина": "UA", "беларусь": "BY", "turkey": "TR", "турция": "TR", "holland": "NL",
    "the netherlands": "NL", "south korea": "KR", "korea": "KR", "russian federation": "RU",
    "czech republic": "CZ", "ivory coast": "CI", "uae": "AE", "emirates": "AE", "vietnam": "VN",
}


def normalize_country(value: Any) -> str | None:
    """A country name, alias or code to ISO 3166-1 alpha-2, or None if unknown."""
    text = clean_text(value)
    if text is None:
        return None
    return _country_code(text)


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str | None:
    alias = _COUNTRY_ALIASES.get(text.casefold())
    if alias:
        return alias
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


@_register("country")
def _country(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return None
    code = normalize_country(text)
    if code is None:
        raise TransformError(f"{_preview(text)} is not a country name or ISO code")
    return code


def _parse_datetime(text: str, options: Mapping[str, Any]) -> datetime:
    dayfirst = bool(options.get("dayfirst", True))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text):
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            parsed = date_parser.parse(text, dayfirst=dayfirst)
    except (ValueError, OverflowError) as exc:
        raise TransformError(f"{_preview(text)} is not a date ({exc})") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@_register("date")
def _date(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    return None if text is None else _parse_datetime(text, options).date()


@_register("datetime")
def _datetime(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    return None if text is None else _parse_datetime(text, options).astimezone(UTC)


@_register("int")
def _int(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\d+:\d{2}(:\d{2})?", text):  # mm:ss or hh:mm:ss durations
        total = 0
        for part in text.split(":"):
            total = total * 60 + int(part)
        return total
    try:
        return int(float(text.replace(",", ".")))
    except ValueError:
        raise TransformError(f"{_preview(text)} is not a whole number") from None


_TRUE = {"1", "yes", "y", "true", "да", "on", "x", "✓"}
_FALSE = {"0", "no", "n", "false", "нет", "off"}


@_register("bool")
def _bool(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return None
    if text.casefold() in _TRUE:
        return True
    if text.casefold() in _FALSE:
        return False
    raise TransformError(f"{_preview(text)} is not yes/no")


@_register("split")
def _split(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return []
    separator = options.get("separator", ",")
    return [part.strip() for part in text.split(separator) if part.strip()]


@_register("map")
def _map(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    text = clean_text(value)
    if text is None:
        return None
    values = {str(k).casefold(): v for k, v in (options.get("values") or {}).items()}
    if text.casefold() in values:
        return values[text.casefold()]
    if "default" in options:
        return options["default"]
    raise TransformError(f"{_preview(text)} is not one of {sorted(values)}")


_HONORIFICS = {
    "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx", "herr", "frau",
    "г-н", "г-жа", "господин", "госпожа", "shri", "smt", "श्री", "श्रीमती",
}
_PATRONYMIC = re.compile(r"(ович|евич|ич|овна|евна|ична|инична|оглы|кызы)$", re.IGNORECASE)


@dataclass(frozen=True)
class PersonName:
    full: str | None = None
    given: str | None = None
    family: str | None = None
    patronymic: str | None = None


def split_person_name(text: str | None, order: str = "auto") -> PersonName:
    """Split a full name into given, family and patronymic; order: auto, given_first, family_first."""
    cleaned = clean_text(text)
    if cleaned is None:
        return PersonName()
    if "," in cleaned:  # "Family, Given"
        family, _, given = cleaned.partition(",")
        tokens = [*given.split(), family.strip()]
    else:
        tokens = cleaned.split()
    tokens = [t for t in tokens if t.casefold().rstrip(".") not in _HONORIFICS] or tokens
    full = " ".join(tokens)
    if len(tokens) == 1:
        return PersonName(full=full, given=tokens[0])
    if len(tokens) == 3 and _PATRONYMIC.search(tokens[2]):
        return PersonName(full, given=tokens[1], family=tokens[0], patronymic=tokens[2])
    if len(tokens) == 3 and _PATRONYMIC.search(tokens[1]):
        return PersonName(full, given=tokens[0], family=tokens[2], patronymic=tokens[1])
    if order == "family_first":
        return PersonName(full, given=" ".join(tokens[1:]), family=tokens[0])
    return PersonName(full, given=" ".join(tokens[:-1]), family=tokens[-1])


@_register("person_name")
def _person_name(value: Any, options: Mapping[str, Any], ctx: RowContext) -> Any:
    return split_person_name(value, str(options.get("order", "auto")))
