"""How values get damaged on their way into a source: typos, phone formats, e-mail variants."""

from __future__ import annotations

import random

from bench.dedupe.people import Phone

__all__ = ["PHONE_STYLES", "email_variant", "format_phone", "typo"]

_LATIN = "abcdefghijklmnopqrstuvwxyz"
_CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыьэюя"
_GEORGIAN = "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ"
_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    char: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    for row in _QWERTY_ROWS for i, char in enumerate(row)
}


def _alphabet(text: str) -> str:
    for char in text:
        if "а" <= char.lower() <= "я":
            return _CYRILLIC
        if "ა" <= char <= "ჰ":
            return _GEORGIAN
        if "\u0900" <= char <= "\u097f":
            return text  # Devanagari: reuse the word's own letters, a plausible slip
    return _LATIN


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: insert, delete, transpose or replace a letter (not the first one)."""
    if len(text) < 3:
        return text
    alphabet = _alphabet(text)
    pos = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.25:
        return text[:pos] + rng.choice(alphabet) + text[pos:]
    if op < 0.5:
        return text[:pos] + text[pos + 1:]
    if op < 0.75:
        return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2:]
    old = text[pos]
    new = rng.choice(_NEIGHBOURS.get(old.lower(), alphabet) or alphabet)
    return text[:pos] + (new.upper() if old.isupper() else new) + text[pos + 1:]


def _groups(digits: str, sizes: tuple[int, ...]) -> list[str]:
    out, start = [], 0
    for size in sizes:
        if start >= len(digits):
            break
        out.append(digits[start:start + size])
        start += size
    if start < len(digits):
        out.append(digits[start:])
    return out


# How the digits after the area code are grouped, by country and their count.
_LOCAL_GROUPS = {
    "RU": {7: (3, 2, 2)}, "US": {7: (3, 4)}, "IN": {5: (5,), 8: (4, 4), 7: (3, 4)},
    "GB": {8: (4, 4), 7: (3, 4), 6: (6,)}, "DE": {}, "GE": {6: (2, 2, 2)},
}
_TRUNK = {"RU": "8", "US": "", "IN": "0", "GB": "0", "DE": "0", "GE": ""}
PHONE_STYLES = ("e164", "intl", "trunk", "digits", "local", "cc_digits")


def format_phone(phone: Phone, style: str, rng: random.Random) -> str:
    """Write a phone the way one source does: +7 912 345-67-89, 8 912 345 67 89, (415) 555-0132..."""
    country, area, local = phone.country, phone.area, phone.local
    if country == "IN" and len(area) == 2 and len(local) == 8 and area[0] in "6789":
        area, local = area + local[:3], local[3:]  # mobiles read 98765 43210
    groups = _groups(local, _LOCAL_GROUPS[country].get(len(local), (len(local),)))
    sep = "-" if country in ("RU", "US") and rng.random() < 0.6 else " "
    body = " ".join([area, sep.join(groups)]) if sep == "-" else " ".join([area, *groups])
    cc = phone.calling_code
    if style == "e164":
        return f"+{cc}{area}{local}"
    if style == "cc_digits":
        return f"{cc}{area}{local}"
    if style == "intl":
        if country == "US":
            return f"+1 {area}-{'-'.join(groups)}"
        if country in ("GB", "DE") and rng.random() < 0.3:
            return f"+{cc} (0){body}"
        return f"+{cc} {body}"
    if style == "trunk":
        if country == "US":
            return f"({area}) {'-'.join(groups)}" if rng.random() < 0.7 else f"1-{area}-{'-'.join(groups)}"
        if country == "RU" and rng.random() < 0.5:
            return f"8 ({area}) {sep.join(groups)}"
        trunk = _TRUNK[country] + (" " if country == "RU" else "")
        if country == "DE" and rng.random() < 0.4:
            return f"0{area}/{local}"
        return f"{trunk}{area} {' '.join(groups)}" if trunk else f"{area} {' '.join(groups)}"
    if style == "digits":
        return f"{_TRUNK[country]}{area}{local}"
    if country == "US":
        return f"{area}.{'.'.join(groups)}"
    return f"{area} {' '.join(groups)}"


_TAGS = ("shop", "news", "crm", "work", "promo", "2020")


def email_variant(address: str, rng: random.Random) -> str:
    """The same mailbox written another way: case, gmail dots, +tags, googlemail.com."""
    user, _, domain = address.partition("@")
    roll = rng.random()
    if domain == "gmail.com" and roll < 0.55:
        if roll < 0.2 and "." in user:
            user = user.replace(".", "")
        elif roll < 0.35 and len(user) > 3:
            cut = rng.randrange(1, len(user) - 1)
            user = user[:cut] + "." + user[cut:] if "." not in user[cut - 1:cut + 1] else user
        elif roll < 0.5:
            user = f"{user}+{rng.choice(_TAGS)}"
        else:
            domain = "googlemail.com"
        return f"{user}@{domain}"
    if roll < 0.7:
        parts = user.split(".")
        return ".".join(p[:1].upper() + p[1:] for p in parts) + "@" + domain.capitalize()
    if roll < 0.85:
        return address.upper()
    return f" {address} "
