"""The true world behind the synthetic data: people, their households, employers, phones, e-mails.

A person is one ground-truth entity. Households share a surname, a city and a home phone
(and sometimes an e-mail); colleagues share an employer's office phone and e-mail domain.
These are the look-alike true non-matches a dedupe engine must keep apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate

from bench.dedupe import namedata as nd
from bench.dedupe.translit import fold_german, romanize_georgian, romanize_russian

__all__ = ["COUNTRIES", "Company", "Person", "Phone", "World", "latin_name"]

COUNTRIES = ("RU", "US", "IN", "GB", "DE", "GE")
_COUNTRY_WEIGHTS = (0.26, 0.24, 0.17, 0.12, 0.12, 0.09)
_CALLING_CODES = {"RU": "7", "US": "1", "IN": "91", "GB": "44", "DE": "49", "GE": "995"}
# Per city (same order as namedata.CITIES): landline area code and local number length.
_LANDLINE = {
    "RU": (("495", 7), ("812", 7), ("383", 7), ("343", 7), ("843", 7), ("831", 7), ("846", 7),
           ("861", 7), ("342", 7), ("473", 7)),
    "IN": (("22", 8), ("11", 8), ("80", 8), ("40", 8), ("44", 8), ("33", 8), ("20", 8), ("79", 8),
           ("141", 7), ("522", 7)),
    "US": (("212", 7), ("213", 7), ("312", 7), ("713", 7), ("602", 7), ("415", 7), ("206", 7),
           ("617", 7), ("512", 7), ("303", 7)),
    "GB": (("20", 8), ("161", 7), ("121", 7), ("113", 7), ("141", 7), ("131", 7), ("117", 7),
           ("151", 7)),
    "DE": (("30", 8), ("89", 8), ("40", 8), ("221", 7), ("69", 8), ("711", 7), ("211", 7),
           ("341", 7)),
    "GE": (("322", 6), ("422", 6), ("431", 6), ("341", 6)),
}
_MOBILE = {  # area prefixes and local length
    "RU": (("912", "916", "903", "905", "915", "925", "926", "977", "985", "999", "921", "952"), 7),
    "IN": (("98", "99", "97", "96", "95", "94", "93", "91", "90", "88", "87", "70", "63"), 8),
    "US": (("917", "646", "310", "773", "832", "480", "628", "425", "857", "737", "720"), 7),
    "GB": (("7400", "7500", "7700", "7800", "7900", "7950", "7580", "7460"), 6),
    "DE": (("151", "152", "157", "159"), 8),
    "GE": (("555", "557", "558", "559", "591", "593", "595", "598", "599", "568"), 6),
}


@dataclass(frozen=True, slots=True)
class Phone:
    """A real phone line: country, area code (or mobile prefix) and the rest of the digits."""

    country: str
    area: str
    local: str

    @property
    def calling_code(self) -> str:
        return _CALLING_CODES[self.country]


@dataclass(slots=True)
class Company:
    """An employer; every dozen staff share one office (switchboard) line."""

    name: str
    country: str
    domain: str
    city: int
    lines: list[Phone] = field(default_factory=list)
    staff: int = 0


@dataclass(slots=True)
class Person:
    """One ground-truth customer; names in their native script (Latin for US/GB/DE)."""

    entity_id: str
    country: str
    male: bool
    given: str
    family: str
    city: int
    mobile: Phone
    mobile2: Phone | None = None          # a second or newer number
    given_latin: tuple[str, ...] = ()     # Indian names: spelling variants, most common first
    family_latin: tuple[str, ...] = ()
    patronymic: str | None = None
    home: Phone | None = None             # shared with the household
    company: Company | None = None
    office: Phone | None = None           # shared with colleagues
    emails: list[str] = field(default_factory=list)   # personal, most used first
    work_email: str | None = None
    household_email: str | None = None


def latin_name(text: str, country: str, variants: tuple[str, ...] = ()) -> str:
    """A name in its usual Latin spelling: by rule for RU/GE, the stored spelling for IN."""
    if variants:
        return variants[0]
    if country == "RU":
        return romanize_russian(text, "popular")
    if country == "GE":
        return romanize_georgian(text, "national")
    return text


def _zipf(count: int, exponent: float) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


class _Pool:
    """Names with weights: a Zipf head of real names and an optional uniform tail of rare ones."""

    def __init__(self, head: list[tuple[str, tuple[str, ...]]], tail: list[tuple[str, tuple[str, ...]]],
                 exponent: float, tail_mass: float) -> None:
        weights = _zipf(len(head), exponent)
        if tail:
            head_total = sum(weights)
            each = head_total * tail_mass / (1 - tail_mass) / len(tail)
            weights += [each] * len(tail)
        self.items = head + tail
        self.cum = list(accumulate(weights))

    def pick(self, rng: random.Random) -> tuple[str, tuple[str, ...]]:
        return rng.choices(self.items, cum_weights=self.cum)[0]


def _plain(names: list[str] | tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    return [(name, ()) for name in names]


def _tail(rng: random.Random, syllables: list[str], endings: tuple[str, ...], count: int,
          taken: set[str]) -> list[tuple[str, tuple[str, ...]]]:
    out: dict[str, None] = {}
    for _ in range(count * 20):  # bounded: a small syllable table may hold fewer names
        if len(out) == count:
            break
        stem = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3))))
        name = (stem + rng.choice(endings)).capitalize()
        if name not in taken:
            out[name] = None
    return [(name, ()) for name in out]


def _indian_tail(rng: random.Random, count: int) -> list[tuple[str, tuple[str, ...]]]:
    out: dict[str, tuple[str, ...]] = {}
    for _ in range(count * 20):
        if len(out) == count:
            break
        parts = [rng.choice(nd.IN_SYLLABLES) for _ in range(rng.choice((2, 2, 3)))]
        final = rng.choice(nd.IN_FINALS)
        native = "".join(p[0] for p in parts) + final[0]
        latin = ("".join(p[1] for p in parts) + final[1]).capitalize()
        out.setdefault(native, (latin,))
    return list(out.items())


def _build_pools(rng: random.Random, tail_size: int) -> dict[str, tuple[_Pool, _Pool, _Pool]]:
    """(male given, female given, surname) pools per country."""
    ru_tail = _tail(rng, nd.RU_SYLLABLES, nd.RU_SURNAME_ENDINGS, tail_size, set(nd.RU_SURNAMES))
    ge_tail = _tail(rng, nd.GE_SYLLABLES, nd.GE_SURNAME_ENDINGS, tail_size // 3, set(nd.GE_SURNAMES))
    en_tail = _tail(rng, nd.EN_SYLLABLES, nd.EN_SURNAME_ENDINGS, tail_size, set(nd.EN_SURNAMES))
    de_tail = _tail(rng, nd.DE_SYLLABLES, nd.DE_SURNAME_ENDINGS, tail_size // 2, set(nd.DE_SURNAMES))
    in_tail = _indian_tail(rng, tail_size)
    en_surnames = _plain(list(dict.fromkeys(nd.EN_SURNAMES)))

    def trio(male: list, female: list, surnames: list, tail: list) -> tuple[_Pool, _Pool, _Pool]:
        return (_Pool(male, [], 0.85, 0), _Pool(female, [], 0.85, 0), _Pool(surnames, tail, 0.9, 0.45))

    return {
        "RU": trio(_plain(nd.RU_MALE), _plain(nd.RU_FEMALE), _plain(nd.RU_SURNAMES), ru_tail),
        "GE": trio(_plain(nd.GE_MALE), _plain(nd.GE_FEMALE), _plain(nd.GE_SURNAMES), ge_tail),
        "IN": trio(list(nd.IN_MALE), list(nd.IN_FEMALE), list(nd.IN_SURNAMES), in_tail),
        "US": trio(_plain(nd.EN_MALE), _plain(nd.EN_FEMALE), en_surnames, en_tail),
        "GB": trio(_plain(nd.EN_MALE), _plain(nd.EN_FEMALE), en_surnames, en_tail),
        "DE": trio(_plain(nd.DE_MALE), _plain(nd.DE_FEMALE), _plain(nd.DE_SURNAMES), de_tail),
    }


def feminine_surname(family: str, country: str) -> str:
    """Russian surnames take a feminine form (Иванов → Иванова); others are shared."""
    if country != "RU":
        return family
    if family.endswith("ский"):
        return family[:-2] + "ая"
    if family.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return family + "а"
    return family


def patronymic(father: str, male: bool) -> str:
    """Russian patronymic from the father's given name."""
    if father in nd.RU_PATRONYMIC_EXCEPTIONS:
        return nd.RU_PATRONYMIC_EXCEPTIONS[father][0 if male else 1]
    if father.endswith("ий"):
        stem, suffix = father[:-2] + "ь", "евич"
    elif father.endswith("й"):
        stem, suffix = father[:-1], "евич"
    else:
        stem, suffix = father, "ович"
    return stem + (suffix if male else suffix[:-2] + "на")


class World:
    """Everything shared between people: name pools, employers, and the addresses already taken."""

    def __init__(self, rng: random.Random, n_records: int) -> None:
        self.rng = rng
        self.pools = _build_pools(rng, tail_size=max(300, min(6000, n_records // 100)))
        self.country_cum = list(accumulate(_COUNTRY_WEIGHTS))
        self.taken_emails: set[str] = set()
        self.taken_phones: set[tuple[str, str, str]] = set()
        self.taken_domains: set[str] = set()
        self.companies: dict[str, tuple[list[Company], list[float]]] = {}
        for country in COUNTRIES:
            count = max(20, n_records // 60)
            firms = [self._company(country) for _ in range(count)]
            self.companies[country] = (firms, list(accumulate(_zipf(count, 1.0))))
        self.next_entity = 0

    # --- phones and e-mail addresses -------------------------------------------------------------
    def _unique_phone(self, country: str, area: str, length: int) -> Phone:
        while True:
            first = str(self.rng.randint(2, 9))
            local = first + "".join(str(self.rng.randint(0, 9)) for _ in range(length - 1))
            if (country, area, local) not in self.taken_phones:
                self.taken_phones.add((country, area, local))
                return Phone(country, area, local)

    def mobile(self, country: str) -> Phone:
        areas, length = _MOBILE[country]
        return self._unique_phone(country, self.rng.choice(areas), length)

    def landline(self, country: str, city: int) -> Phone:
        area, length = _LANDLINE[country][city]
        return self._unique_phone(country, area, length)

    def claim_email(self, user: str, domain: str) -> str:
        """`user@domain`, or with a number appended when a stranger already has it."""
        address = f"{user}@{domain}"
        while address in self.taken_emails:
            address = f"{user}{self.rng.randint(1, 999)}@{domain}"
        self.taken_emails.add(address)
        return address

    def _company(self, country: str) -> Company:
        rng = self.rng
        words = [rng.choice(nd.COMPANY_WORDS)]
        if rng.random() < 0.7:
            words.append(rng.choice(nd.COMPANY_NOUNS))
        name = " ".join(words)
        tld = {"RU": "ru", "IN": "in", "GB": "co.uk", "DE": "de", "GE": "ge"}.get(country, "com")
        base = name.lower().replace(" ", "-")
        domain = f"{base}.{tld}"
        while domain in self.taken_domains:
            domain = f"{base}{rng.randint(2, 999)}.{tld}"
        self.taken_domains.add(domain)
        return Company(name, country, domain, rng.randrange(len(nd.CITIES[country])))

    def employer(self, country: str) -> Company:
        firms, cum = self.companies[country]
        return self.rng.choices(firms, cum_weights=cum)[0]

    # --- people ----------------------------------------------------------------------------------
    def _entity_id(self) -> str:
        self.next_entity += 1
        return f"E{self.next_entity:07d}"

    def person(self, country: str, male: bool, family: tuple[str, tuple[str, ...]] | None = None,
               city: int | None = None) -> Person:
        """A new person; family (surname, Latin variants) and city are given for household members."""
        rng = self.rng
        male_pool, female_pool, surnames = self.pools[country]
        given, given_latin = (male_pool if male else female_pool).pick(rng)
        surname, surname_latin = family or surnames.pick(rng)
        person = Person(
            entity_id=self._entity_id(), country=country, male=male, given=given,
            family=surname if male else feminine_surname(surname, country),
            city=rng.randrange(len(nd.CITIES[country])) if city is None else city,
            mobile=self.mobile(country), given_latin=given_latin, family_latin=surname_latin)
        if country == "RU":
            person.patronymic = patronymic(male_pool.pick(rng)[0], male)
        return person

    def household(self) -> list[Person]:
        """One person, or a family sharing surname, city and home phone (about a quarter of people)."""
        rng = self.rng
        country = rng.choices(COUNTRIES, cum_weights=self.country_cum)[0]
        if rng.random() >= 0.16:
            members = [self.person(country, rng.random() < 0.5)]
        else:
            head = self.person(country, rng.random() < 0.5)
            family = (head.family if head.male else self._masculine(head), head.family_latin)
            members = [head]
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                member = self.person(country, rng.random() < 0.5, family, head.city)
                if head.male and member.male and rng.random() < 0.08:  # Jr. / Sr.
                    member.given, member.given_latin = head.given, head.given_latin
                members.append(member)
            home = self.landline(country, head.city)
            shared = None
            if rng.random() < 0.1:
                surname = latin_name(family[0], country, family[1]).lower()
                shared = self.claim_email(f"{fold_german(surname)}.family",
                                          rng.choice(nd.PROVIDERS[country]))
            for member in members:
                member.home = home
                member.household_email = shared
        for member in members:
            self._contacts(member)
        return members

    @staticmethod
    def _masculine(person: Person) -> str:
        family = person.family
        if person.country == "RU" and family.endswith("ая"):
            return family[:-2] + "ий"
        if person.country == "RU" and family.endswith(("ова", "ева", "ёва", "ина", "ына")):
            return family[:-1]
        return family

    def _contacts(self, person: Person) -> None:
        rng = self.rng
        if rng.random() < 0.15:
            person.mobile2 = self.mobile(person.country)
        if rng.random() < 0.5:
            company = person.company = self.employer(person.country)
            if company.staff % 12 == 0:
                company.lines.append(self.landline(company.country, company.city))
            company.staff += 1
            person.office = company.lines[-1]
        person.emails.append(self._personal_email(person))
        if rng.random() < 0.25:  # a newer address at another provider
            person.emails.append(self._personal_email(person))
        if person.company is not None and rng.random() < 0.8:
            given, family = self._email_parts(person)
            user = f"{given}.{family}" if rng.random() < 0.7 else f"{given[:1]}{family}"
            person.work_email = self.claim_email(user, person.company.domain)

    def _email_parts(self, person: Person) -> tuple[str, str]:
        given = latin_name(person.given, person.country, person.given_latin)
        family = latin_name(person.family, person.country, person.family_latin)
        return (fold_german(given, strip=True).lower().replace(" ", ""),
                fold_german(family, strip=True).lower().replace(" ", ""))

    def _personal_email(self, person: Person) -> str:
        """Most usernames are derived from the name: evidence a stranger of the same name shares."""
        rng = self.rng
        given, family = self._email_parts(person)
        roll = rng.random()
        if roll < 0.30:
            user = f"{given}.{family}"
        elif roll < 0.40:
            user = f"{given}{family}"
        elif roll < 0.50:
            user = f"{given[:1]}{family}"
        elif roll < 0.56:
            user = f"{family}.{given}"
        elif roll < 0.61:
            user = f"{given}_{family}"
        elif roll < 0.72:
            user = f"{given}.{family}{rng.randint(60, 99):02d}"
        elif roll < 0.78:
            user = f"{given}{rng.randint(1, 99)}"
        else:
            user = f"{rng.choice(nd.HANDLE_WORDS)}{rng.choice(nd.HANDLE_WORDS)}{rng.randint(1, 2005)}"
        return self.claim_email(user, rng.choice(nd.PROVIDERS[person.country]))
