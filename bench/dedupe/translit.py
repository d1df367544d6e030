"""Romanisation the way real sources do it: several competing systems, chosen per record.

Russian passports (ICAO 9303 since 2013) write 'Iuliia', older documents and most people
'Yuliya' or 'Julia'; 'Дмитрий' is 'Dmitrii', 'Dmitriy' or 'Dmitry'. Georgian has one national
system but older spellings survive ('Djaparidze', 'Khutsishvili' / 'Xucishvili').
"""

from __future__ import annotations

import re

__all__ = ["GE_SCHEMES", "RU_SCHEMES", "fold_german", "romanize_georgian", "romanize_russian"]

_RU_BASE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
# Each scheme overrides some letters of the passport (ICAO) table.
_RU_OVERRIDES = {
    "icao": {},
    "bgn": {"й": "y", "ё": "yo", "ю": "yu", "я": "ya", "ъ": "", "ь": ""},
    "popular": {"й": "y", "ё": "yo", "ю": "yu", "я": "ya", "ъ": "", "ь": "", "х": "h"},
}
RU_SCHEMES = tuple(_RU_OVERRIDES)
_RU_TABLES = {name: {**_RU_BASE, **over} for name, over in _RU_OVERRIDES.items()}
_RU_WORD_END_IY = re.compile(r"iy\b|ii\b")
_RU_KS = re.compile(r"ks")


def _romanize_word(word: str, table: dict[str, str]) -> str:
    parts = []
    for index, char in enumerate(word):
        low = char.lower()
        if low not in table:
            parts.append(char)
            continue
        latin = table[low]
        if char.isupper():
            rest_upper = word[index + 1:index + 2].isupper()
            latin = latin.upper() if rest_upper else latin[:1].upper() + latin[1:]
        parts.append(latin)
    return "".join(parts)


def romanize_russian(text: str, scheme: str = "icao") -> str:
    """Romanise Cyrillic text with one of RU_SCHEMES; 'popular' also writes -iy as -y, ks as x."""
    table = _RU_TABLES[scheme]
    out = " ".join(_romanize_word(word, table) for word in text.split(" "))
    if scheme == "popular":
        out = _RU_WORD_END_IY.sub("y", out)
        out = _RU_KS.sub("x", out)
    return out


_GE_NATIONAL = {
    "ა": "a", "ბ": "b", "გ": "g", "დ": "d", "ე": "e", "ვ": "v", "ზ": "z", "თ": "t", "ი": "i",
    "კ": "k", "ლ": "l", "მ": "m", "ნ": "n", "ო": "o", "პ": "p", "ჟ": "zh", "რ": "r", "ს": "s",
    "ტ": "t", "უ": "u", "ფ": "p", "ქ": "k", "ღ": "gh", "ყ": "q", "შ": "sh", "ჩ": "ch", "ც": "ts",
    "ძ": "dz", "წ": "ts", "ჭ": "ch", "ხ": "kh", "ჯ": "j", "ჰ": "h",
}
_GE_OVERRIDES = {
    "national": {},
    "old": {"ჯ": "dj", "ჭ": "tch", "ყ": "k", "ღ": "g"},
    "phonetic": {"ხ": "x", "ც": "c", "წ": "c", "ჩ": "ch", "ჯ": "j", "ღ": "g"},
}
GE_SCHEMES = tuple(_GE_OVERRIDES)
_GE_TABLES = {name: {**_GE_NATIONAL, **over} for name, over in _GE_OVERRIDES.items()}


def romanize_georgian(text: str, scheme: str = "national") -> str:
    """Romanise Georgian script (which has no case) with one of GE_SCHEMES, capitalising words."""
    table = _GE_TABLES[scheme]
    words = []
    for word in text.split(" "):
        latin = "".join(table.get(char, char) for char in word)
        words.append(latin[:1].upper() + latin[1:])
    return " ".join(words)


_DE_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
_DE_STRIP = {"ä": "a", "ö": "o", "ü": "u", "Ä": "A", "Ö": "O", "Ü": "U", "ß": "ss"}


def fold_german(text: str, strip: bool = False) -> str:
    """ASCII-fold German letters: 'Müller' → 'Mueller' (or 'Muller' with strip=True)."""
    table = _DE_STRIP if strip else _DE_UMLAUTS
    return "".join(table.get(char, char) for char in text)
