from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mappings.transforms import (
    TRANSFORMS,
    RowContext,
    TransformError,
    normalize_country,
    normalize_phone,
    split_person_name,
)

CTX = RowContext(row={}, defaults={"phone_region": "RU"})


def run(name: str, value, options=None, ctx=CTX):
    return TRANSFORMS[name](value, options or {}, ctx)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+7 (912) 345-67-89", "RU", "+79123456789"),
        ("8 912 345 67 89", "RU", "+79123456789"),
        ("89123456789", "RU", "+79123456789"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("+44 20 7946 0958", "RU", "+442079460958"),
        ("098765 43210", "IN", "+919876543210"),
    ],
)
def test_phone_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["ask reception", "12-34", "000000"])
def test_unparseable_phone_says_what_and_why(raw: str) -> None:
    with pytest.raises(TransformError, match=repr(raw)[1:-1]):
        run("phone", raw)


def test_phone_region_comes_from_the_rows_country_column() -> None:
    ctx = RowContext(row={"Country": "USA"}, defaults={"phone_region": "RU"})
    assert run("phone", "(415) 555-0132", {"region_from": "Country"}, ctx) == ["+14155550132"]


def test_several_phones_in_one_cell_are_split_and_deduplicated() -> None:
    assert run("phone", "8 912 345 67 89, +7 912 345-67-89; +44 20 7946 0958") == [
        "+79123456789",
        "+442079460958",
    ]


def test_email_trimmed_lowercased_and_checked() -> None:
    assert run("email", "  Ivan.Petrov@Mail.RU ") == ["ivan.petrov@mail.ru"]
    assert run("email", "a@example.com; B@Example.com") == ["a@example.com", "b@example.com"]
    assert run("email", "   ") == []
    with pytest.raises(TransformError, match="not a valid e-mail"):
        run("email", "ivan@")


def test_dates_day_first_and_iso() -> None:
    assert run("date", "12.03.2024") == date(2024, 3, 12)
    assert run("date", "2024-03-01") == date(2024, 3, 1)
    assert run("datetime", "2024-03-02T10:15:00Z") == datetime(2024, 3, 2, 10, 15, tzinfo=UTC)
    with pytest.raises(TransformError, match="not a date"):
        run("date", "soon")


@pytest.mark.parametrize(
    ("text", "order", "given", "family", "patronymic"),
    [
        ("Иванов Иван Иванович", "auto", "Иван", "Иванов", "Иванович"),
        ("Иван Иванович Иванов", "auto", "Иван", "Иванов", "Иванович"),
        ("Анна Смирнова", "auto", "Анна", "Смирнова", None),
        ("Петров Пётр", "family_first", "Пётр", "Петров", None),
        ("Dr. John  Smith", "auto", "John", "Smith", None),
        ("Smith, John", "auto", "John", "Smith", None),
        ("राहुल शर्मा", "auto", "राहुल", "शर्मा", None),
        ("Madonna", "auto", "Madonna", None, None),
    ],
)
def test_split_person_name(text, order, given, family, patronymic) -> None:
    name = split_person_name(text, order)
    assert (name.given, name.family, name.patronymic) == (given, family, patronymic)


def test_country_names_and_aliases() -> None:
    assert normalize_country("Россия") == "RU"
    assert normalize_country("United Kingdom") == "GB"
    assert normalize_country("Germany") == "DE"
    assert normalize_country("in") == "IN"
    assert normalize_country("Narnia") is None


def test_int_bool_map_split() -> None:
    assert run("int", "125") == 125
    assert run("int", "2:05") == 125
    assert run("bool", "Да") is True
    assert run("map", "IN", {"values": {"in": "inbound", "out": "outbound"}}) == "inbound"
    assert run("split", "vip, wholesale,") == ["vip", "wholesale"]
    with pytest.raises(TransformError):
        run("int", "many")


def test_fallback_regions_rescue_foreign_national_numbers_only_when_valid() -> None:
    options = {"fallback_regions": ["US", "GB"]}
    assert run("phone", "(305) 555-0148", options) == ["+13055550148"]  # invalid in RU, valid in US
    assert run("phone", "8 912 345 67 89", options) == ["+79123456789"]  # default region first
    with pytest.raises(TransformError, match="region RU"):
        run("phone", "12-34", options)
    with pytest.raises(TransformError):
        run("phone", "+7 305 555 0148", options)  # an explicit country code is never re-guessed
