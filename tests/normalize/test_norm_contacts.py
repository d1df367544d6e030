"""E-mail and phone keys: provider aliases, role mailboxes, extensions, fake numbers."""

from __future__ import annotations

import pytest

from mappings.normalize import (
    PhoneParts,
    email_key,
    email_local_name_tokens,
    is_role_address,
    phone_key,
    phone_parts,
)


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("John.Smith@Gmail.com", "johnsmith@gmail.com"),
        ("j.o.h.n.smith+crm@googlemail.com", "johnsmith@gmail.com"),
        ("johnsmith+newsletter@gmail.com", "johnsmith@gmail.com"),
        ("bob+tag@outlook.com", "bob@outlook.com"),
        ("bob+tag@hotmail.co.uk", "bob@hotmail.co.uk"),
        ("bob.jones+x@icloud.com", "bob.jones@icloud.com"),  # dots matter outside gmail
        ("bob+x@fastmail.com", "bob@fastmail.com"),
        ("bob+x@proton.me", "bob@proton.me"),
        ("bob-shopping@yahoo.com", "bob@yahoo.com"),
        ("ivan.petrov+crm@yandex.by", "ivan-petrov@yandex.ru"),
        ("Ivan-Petrov@ya.ru", "ivan-petrov@yandex.ru"),
        ("ivan@yandex.com", "ivan@yandex.ru"),
        ("ivan+1@mail.ru", "ivan@mail.ru"),
        ("a+b@example.com", "a+b@example.com"),  # unknown provider: the tag may be a real mailbox
        ("a-b@example.com", "a-b@example.com"),
        ("  Ivan Petrov <IVAN@Example.COM> ", "ivan@example.com"),
        ("mailto:x@example.org", "x@example.org"),
    ],
)
def test_email_key(email: str, key: str) -> None:
    assert email_key(email) == key


@pytest.mark.parametrize("bad", [None, "", "   ", "not an email", "bad@", "@example.com", "a@b@c", "x" * 400 + "@a.com"])
def test_email_key_invalid(bad: str | None) -> None:
    assert email_key(bad) == ""


def test_email_local_name_tokens() -> None:
    assert email_local_name_tokens("Ivan.Petrov85+crm@gmail.com") == ("ivan", "petrov")
    assert email_local_name_tokens("j_smith-2@example.com") == ("j", "smith")
    assert email_local_name_tokens("rahul.sharma@example.in") == ("rahul", "sharma")
    assert email_local_name_tokens("12345@example.com") == ()
    assert email_local_name_tokens("not an email") == ()
    assert email_local_name_tokens(None) == ()


@pytest.mark.parametrize(
    "email",
    ["info@acme.com", "Sales@acme.com", "office@acme.ru", "admin@acme.com", "support@acme.com", "hello@acme.io",
     "contact@acme.fr", "noreply@acme.com", "no-reply@acme.com", "do-not-reply@acme.com", "info2@acme.com",
     "info.moscow@acme.ru", "sales-eu@acme.com", "buh@acme.ru", "zakaz@acme.ru"],
)  # fmt: skip
def test_role_addresses(email: str) -> None:
    assert is_role_address(email)


@pytest.mark.parametrize("email", ["ivan.petrov@acme.ru", "p.r@acme.com", "mark@acme.com", "", None, "info"])
def test_personal_addresses(email: str | None) -> None:
    assert not is_role_address(email)


@pytest.mark.parametrize(
    ("text", "region", "e164", "extension"),
    [
        ("+7 916 123-45-67", None, "+79161234567", ""),
        ("8 (916) 123-45-67", "RU", "+79161234567", ""),
        ("+7 916 123-45-67 доб. 12", None, "+79161234567", "12"),
        ("+7 916 123 45 67, внутр 5", None, "+79161234567", "5"),
        ("+44 20 7946 0958 ext. 12", None, "+442079460958", "12"),
        ("+44 20 7946 0958 x12", None, "+442079460958", "12"),
        ("(202) 456-1414 #7", "US", "+12024561414", "7"),
        ("0049 30 901820", None, "+4930901820", ""),
        ("+49 (0) 30 901820", None, "+4930901820", ""),
        ("+91 98765 43211", None, "+919876543211", ""),
        ("098765 43211", "in", "+919876543211", ""),
    ],
)
def test_phone_parts(text: str, region: str | None, e164: str, extension: str) -> None:
    assert phone_parts(text, region) == PhoneParts(e164=e164, extension=extension, is_fake=False)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("000000", "RU"),
        ("0000000000", "US"),
        ("1111111111", "US"),
        ("+7 999 999 99 99", None),
        ("1234567890", "US"),
        ("+7 987 654 32 10", None),
        ("(212) 555-0123", "US"),  # NANP fictional 555-01xx
        ("+1 201 555 0199 x 7", None),
        ("123", "US"),  # too short
        ("+44 12", None),
    ],
)
def test_fake_phones(text: str, region: str | None) -> None:
    parts = phone_parts(text, region)
    assert parts is not None and parts.is_fake


def test_real_555_number_is_not_fake() -> None:
    parts = phone_parts("+1 201 555 1234")
    assert parts is not None and not parts.is_fake


@pytest.mark.parametrize(
    ("text", "region"),
    [(None, None), ("", None), ("   ", "RU"), ("abc", "US"), ("916 123 45 67", None), ("+", None), ("1" * 300, "US")],
)
def test_unparseable_phones(text: str | None, region: str | None) -> None:
    assert phone_parts(text, region) is None


def test_phone_parts_bad_region_is_ignored() -> None:
    assert phone_parts("+7 916 123-45-67", "Narnia") == PhoneParts("+79161234567", "", False)


def test_phone_key() -> None:
    assert phone_key("+79161234567") == "161234567"
    assert phone_key("+442079460958") == "079460958"
    # the same subscriber number stored with a wrong country code still meets
    assert phone_key("+19161234567") == phone_key("+79161234567")
    assert phone_key("89161234567") == "161234567"
    assert phone_key("") == ""
    assert phone_key("garbage") == ""
