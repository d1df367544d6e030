"""Hostile input: every public normaliser returns an empty or sane value and never raises."""

from __future__ import annotations

import pytest

from mappings.normalize import (
    NameKey,
    PhoneParts,
    canonical_given,
    city_key,
    company_key,
    company_tokens,
    country_key,
    email_key,
    email_local_name_tokens,
    fold,
    is_patronymic,
    is_role_address,
    name_key,
    phone_key,
    phone_parts,
    phonetic,
    skeleton,
    strip_honorifics,
    to_latin,
)

HOSTILE = [
    None,
    "",
    " ",
    "\t\n\r ",
    "Александр " * 1000,  # 10 kB name
    "राहुलशर्मा" * 1000,  # one 10 kB Devanagari word
    "x" * 10_000,
    "😀👨‍👩‍👧‍👦🏳️‍🌈" * 300,  # emoji with joiners, modifiers and selectors
    "\x00\x01\x07\x1b[31m",  # control characters
    "\u200f\u202eИван\u202c\u200e",  # RTL override and marks
    "Ivanовичराहुल😀محمد北京ქართ",  # mixed scripts in one word
    "\u0301\u0308\u093c\u094d",  # combining marks with no base
    "\ud800",  # lone surrogate
    "\U0010ffff\ue000",  # private use
    "-'-'- ''' ---",
    "@@@ +++ ### ...",
    "x" * 5000 + "@" + "y" * 5000,
    "12345678901234567890" * 20,
]
IDS = [repr(value)[:24] for value in HOSTILE]
TEXT_FUNCTIONS = [fold, to_latin, company_key, city_key, country_key, email_key]


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
@pytest.mark.parametrize("function", TEXT_FUNCTIONS, ids=lambda f: f.__name__)
def test_text_normalisers_return_ascii_or_folded_text(function, value: str | None) -> None:
    result = function(value)
    assert isinstance(result, str)
    if function is not fold:
        assert result.isascii()


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_token_normalisers(value: str | None) -> None:
    token = value or ""
    for function in (skeleton, phonetic, canonical_given):
        assert function(token).isascii()
    assert isinstance(is_patronymic(token), bool)
    assert isinstance(strip_honorifics([token, token]), list)
    assert isinstance(company_tokens(value), tuple)
    assert isinstance(email_local_name_tokens(value), tuple)
    assert isinstance(is_role_address(value), bool)


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_name_key_never_raises(value: str | None) -> None:
    for args in ((value, value, value, value), (value, None, None), (None, None, value), (None, value, None)):
        key = name_key(*args)
        assert isinstance(key, NameKey)
        assert all(isinstance(getattr(key, field), str) for field in ("given", "family", "patronymic"))
        assert all(token.isascii() and token for token in key.tokens)


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
@pytest.mark.parametrize("region", [None, "RU", "US", "", "zz", "Narnia"])
def test_phone_parts_never_raises(value: str | None, region: str | None) -> None:
    result = phone_parts(value, region)
    assert result is None or isinstance(result, PhoneParts)
    assert isinstance(phone_key(value or ""), str)


def test_non_string_values_are_tolerated() -> None:
    # spreadsheets hand over numbers where text was expected
    assert fold(12345) == "12345"  # type: ignore[arg-type]
    assert phone_parts(79161234567, None) is None  # type: ignore[arg-type]
    assert phone_parts(9161234567, "RU") == PhoneParts("+79161234567", "", False)  # type: ignore[arg-type]
    assert company_key(3.5) == "3 5"  # type: ignore[arg-type]
