"""Cyrillic to Latin: one passport-style scheme for Russian, the official one for Ukrainian.

Russian (and any Cyrillic word without Ukrainian-only letters) uses the scheme of Russian
international passports before 2010, with й written 'i':

    а a  б b  в v  г g  д d  е e  ё e  ж zh  з z  и i  й i  к k  л l  м m  н n  о o  п p
    р r  с s  т t  у u  ф f  х kh  ц ts  ч ch  ш sh  щ shch  ъ -  ы y  ь -  э e  ю yu  я ya

so 'Александр' -> 'aleksandr', 'Юлия' -> 'yuliya', 'Дмитрий' -> 'dmitrii', 'Наталья' ->
'natalya', 'Хрущёв' -> 'khrushchev'. A word holding і, ї, є or ґ is Ukrainian and follows
the Ukrainian national system of 2010 (г h, и y, і i, є ie, ї i, й i, ю iu, я ia, and ye, yi,
y, yu, ya at the start of a word; зг zgh), so 'Київ' -> 'kyiv', 'Олексій' -> 'oleksii'.
Other Cyrillic letters (Serbian, Kazakh, Belarusian ...) fall back to anyascii.
"""

from __future__ import annotations

from anyascii import anyascii

__all__ = ["cyrillic_to_latin"]

_RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip

_UKRAINIAN = {
    **_RUSSIAN,
    "г": "h", "ґ": "g", "и": "y", "і": "i", "є": "ie", "ї": "i", "й": "i", "ю": "iu", "я": "ia",
}  # fmt: skip
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UKRAINIAN_MARKERS = frozenset("іїєґ")


def _fallback(char: str) -> str:
    return "".join(c for c in anyascii(char).lower() if c.isalnum())


_RUSSIAN_TABLE = {ord(k): v for k, v in _RUSSIAN.items()}


class _Table(dict[int, str]):
    """Russian table with an anyascii fallback for the rest of Cyrillic, filled on demand."""

    def __missing__(self, code: int) -> str:
        value = _fallback(chr(code))
        self[code] = value
        return value


_TABLE = _Table(_RUSSIAN_TABLE)


def _ukrainian(word: str) -> str:
    out: list[str] = []
    previous = ""
    for index, char in enumerate(word):
        if index == 0 and char in _UKRAINIAN_INITIAL:
            out.append(_UKRAINIAN_INITIAL[char])
        elif char == "г" and previous == "з":
            out.append("gh")  # зг is 'zgh' so that it is not read back as 'zh'
        else:
            out.append(_UKRAINIAN[char] if char in _UKRAINIAN else _fallback(char))
        previous = char
    return "".join(out)


def cyrillic_to_latin(run: str) -> str:
    """A lower-case Cyrillic run (one word or part of one) in lower-case Latin."""
    if _UKRAINIAN_MARKERS.intersection(run):
        return _ukrainian(run)
    return run.translate(_TABLE)
