"""The four sources a customer shows up in, and how each one writes a person down.

A CRM export (split names, international phones, work e-mails), web forms (one free-typed
name field, nicknames, sloppy phones), an Excel sheet (split names that get swapped, phones
that lost their '+'), and a legacy system (one name field, family name first, native
script, upper case, home and office phones).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench.dedupe import namedata as nd
from bench.dedupe.corrupt import email_variant, format_phone, typo
from bench.dedupe.people import Person
from bench.dedupe.translit import GE_SCHEMES, RU_SCHEMES, fold_german, romanize_georgian, romanize_russian

__all__ = ["SOURCES", "SOURCE_WEIGHTS", "SourceProfile", "render"]

_NICKNAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "RU": nd.RU_NICKNAMES, "GE": nd.GE_NICKNAMES, "US": nd.EN_NICKNAMES, "GB": nd.EN_NICKNAMES,
    "DE": nd.DE_NICKNAMES, "IN": nd.IN_NICKNAMES,
}
_NATIVE_SCRIPT = ("RU", "GE", "IN")


@dataclass(frozen=True)
class SourceProfile:
    """Rates (0–1) at which one source writes a value in a given way or leaves it out."""

    name: str
    split_names: bool
    native: dict[str, float]            # country → share of records in the native script
    family_first: dict[str, float] = field(default_factory=dict)
    patronymic: float = 0.0
    typo: float = 0.03
    nickname: float = 0.05
    swap: float = 0.0
    initial: float = 0.0
    upper: float = 0.0
    lower: float = 0.0
    email_missing: float = 0.1
    phone_missing: float = 0.2
    company_missing: float = 0.3
    city_missing: float = 0.3
    country_missing: float = 0.2
    work_email: float = 0.3
    office_phone: float = 0.2
    home_phone: float = 0.1
    phone_styles: tuple[tuple[str, float], ...] = (("intl", 1.0),)
    email_noise: float = 0.1
    email_typo: float = 0.01
    city_english: float = 0.5
    country_as_code: float = 0.5


SOURCES = (
    SourceProfile(
        "crm", split_names=True, native={"RU": 0.25, "GE": 0.1}, typo=0.03, nickname=0.06,
        swap=0.02, email_missing=0.12, phone_missing=0.2, company_missing=0.3, city_missing=0.3,
        country_missing=0.1, work_email=0.5, office_phone=0.25, home_phone=0.1,
        phone_styles=(("intl", 0.6), ("e164", 0.3), ("trunk", 0.1)), email_noise=0.1,
        city_english=0.7, country_as_code=0.7),
    SourceProfile(
        "web", split_names=False, native={"RU": 0.5, "GE": 0.35, "IN": 0.1},
        family_first={"RU": 0.3, "GE": 0.2, "IN": 0.05}, typo=0.06, nickname=0.15, initial=0.03,
        lower=0.08, upper=0.02, email_missing=0.03, phone_missing=0.35, company_missing=0.75,
        city_missing=0.5, country_missing=0.6, work_email=0.2, office_phone=0.05, home_phone=0.1,
        phone_styles=(("trunk", 0.35), ("digits", 0.25), ("local", 0.2), ("intl", 0.1), ("e164", 0.1)),
        email_noise=0.3, email_typo=0.03, city_english=0.5, country_as_code=0.1),
    SourceProfile(
        "excel", split_names=True, native={"RU": 0.6, "GE": 0.3, "IN": 0.05}, typo=0.05,
        nickname=0.1, swap=0.06, upper=0.05, email_missing=0.35, phone_missing=0.15,
        company_missing=0.4, city_missing=0.3, country_missing=0.3, work_email=0.4,
        office_phone=0.3, home_phone=0.2,
        phone_styles=(("digits", 0.4), ("cc_digits", 0.3), ("trunk", 0.2), ("intl", 0.1)),
        email_noise=0.15, email_typo=0.02, city_english=0.4, country_as_code=0.3),
    SourceProfile(
        "legacy", split_names=False, native={"RU": 0.95, "GE": 0.7, "IN": 0.4},
        family_first={"RU": 0.85, "GE": 0.5, "IN": 0.1, "US": 0.3, "GB": 0.3, "DE": 0.3},
        patronymic=0.7, typo=0.05, nickname=0.02, upper=0.3, email_missing=0.6, phone_missing=0.1,
        company_missing=0.5, city_missing=0.2, country_missing=0.5, work_email=0.3,
        office_phone=0.3, home_phone=0.35,
        phone_styles=(("trunk", 0.6), ("digits", 0.3), ("local", 0.1)), email_noise=0.1,
        city_english=0.2, country_as_code=0.2),
)
SOURCE_WEIGHTS = (0.35, 0.30, 0.20, 0.15)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _latin(text: str, person: Person, variants: tuple[str, ...], rng: random.Random) -> str:
    country = person.country
    if country == "RU":
        return romanize_russian(text, rng.choices(RU_SCHEMES, weights=(0.3, 0.3, 0.4))[0])
    if country == "GE":
        return romanize_georgian(text, rng.choices(GE_SCHEMES, weights=(0.7, 0.15, 0.15))[0])
    if country == "IN" and variants:
        return variants[0] if rng.random() < 0.75 else rng.choice(variants)
    if country == "DE" and rng.random() < 0.2:
        return fold_german(text, strip=rng.random() < 0.25)
    return text


def _names(person: Person, p: SourceProfile, rng: random.Random) -> tuple[str, str, str]:
    """(first_name, last_name, full_name) as this source writes them."""
    country = person.country
    native = country in _NATIVE_SCRIPT and rng.random() < p.native.get(country, 0.0)
    given, given_variants = person.given, person.given_latin
    nicknames = _NICKNAMES[country]
    if rng.random() < p.nickname:
        key = given_variants[0] if country == "IN" else given
        if key in nicknames:
            given = rng.choice(nicknames[key])
            given_variants = (given,) if country == "IN" else ()
            if country == "IN":
                native = False  # a Latin nickname has no Devanagari spelling here
    middle = person.patronymic if person.patronymic and rng.random() < p.patronymic else ""
    family = person.family
    if not native:
        given = _latin(given, person, given_variants, rng)
        family = _latin(family, person, person.family_latin, rng)
        middle = _latin(middle, person, (), rng) if middle else ""
    if rng.random() < p.typo:
        given = typo(given, rng)
    if rng.random() < p.typo:
        family = typo(family, rng)
    if rng.random() < p.initial:
        given = given[:1] + "."
    roll = rng.random()
    if roll < p.upper:
        given, family, middle = given.upper(), family.upper(), middle.upper()
    elif roll < p.upper + p.lower:
        given, family, middle = given.lower(), family.lower(), middle.lower()
    if p.split_names:
        if rng.random() < p.swap:
            given, family = family, given
        return given, family, ""
    if rng.random() < p.family_first.get(country, 0.0):
        full = " ".join(x for x in (family, given, middle) if x)
    else:
        full = " ".join(x for x in (given, middle, family) if x)
    return "", "", full


def _email(person: Person, p: SourceProfile, rng: random.Random) -> str:
    if rng.random() < p.email_missing:
        return ""
    if person.work_email and rng.random() < p.work_email:
        address = person.work_email
    elif person.household_email and rng.random() < 0.3:
        address = person.household_email
    elif len(person.emails) > 1 and rng.random() < 0.45:
        address = person.emails[1]
    else:
        address = person.emails[0]
    if rng.random() < p.email_noise:
        address = email_variant(address, rng)
    if rng.random() < p.email_typo:
        user, _, domain = address.partition("@")
        address = f"{typo(user, rng)}@{domain}"
    return address


def _phone(person: Person, p: SourceProfile, rng: random.Random) -> str:
    if rng.random() < p.phone_missing:
        return ""
    if person.office and rng.random() < p.office_phone:
        line = person.office
    elif person.home and rng.random() < p.home_phone:
        line = person.home
    elif person.mobile2 and rng.random() < 0.4:
        line = person.mobile2
    else:
        line = person.mobile
    return format_phone(line, _pick(rng, p.phone_styles), rng)


def _company(person: Person, p: SourceProfile, rng: random.Random) -> str:
    if person.company is None or rng.random() < p.company_missing:
        return ""
    name = person.company.name
    roll = rng.random()
    if roll < 0.5:
        name = f"{name} {rng.choice(nd.COMPANY_SUFFIXES[person.country])}"
    elif roll < 0.6:
        name = name.upper()
    return name


def _place(person: Person, p: SourceProfile, native: bool, rng: random.Random) -> tuple[str, str]:
    city = ""
    if rng.random() >= p.city_missing:
        index = person.city if rng.random() >= 0.04 else rng.randrange(len(nd.CITIES[person.country]))
        local, english = nd.CITIES[person.country][index]
        city = local if native or rng.random() >= p.city_english else english
    country = ""
    if rng.random() >= p.country_missing:
        spellings = nd.COUNTRY_SPELLINGS[person.country]
        country = spellings[0] if rng.random() < p.country_as_code else rng.choice(spellings[1:])
    return city, country


def render(person: Person, profile: SourceProfile, rng: random.Random) -> list[str]:
    """One record of this person in this source: source,first,last,full,email,phone,company,city,country."""
    first, last, full = _names(person, profile, rng)
    written = first + last + full
    native = any(ord(ch) > 0x24F for ch in written)
    city, country = _place(person, profile, native, rng)
    return [profile.name, first, last, full, _email(person, profile, rng), _phone(person, profile, rng),
            _company(person, profile, rng), city, country]
