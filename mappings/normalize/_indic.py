"""Brahmic scripts of India to plain Latin, the way people spell their names in Latin.

How a run of Devanagari, Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada or
Malayalam becomes Latin:

1. Every script is moved onto Devanagari code points. The nine Unicode blocks share the
   ISCII layout, so this is an offset plus a short table for the letters that differ
   (Malayalam chillus, Gurmukhi tippi/addak, Bengali khanda ta ...).
2. The inherent vowel is deleted where North Indian languages drop it (Devanagari,
   Bengali, Gurmukhi, Gujarati, Odia): at the end of a word unless a conjunct ending in
   a sonorant precedes it ('राहुल' rahul, 'सिद्धार्थ' siddharth, but 'मिश्र' mishra), and
   in the middle by Ohala's VC_CV rule, right to left, also before consonant + r
   ('कमलेश' kamlesh, 'अमरनाथ' amarnath, 'गुरप्रीत' gurprit). South Indian scripts write
   the virama, so nothing is deleted there.
3. Tamil stops are voiced between vowels and after nasals, and ச is 's', as Tamil names
   are usually spelt ('முருகன்' murugan, 'சுரேஷ்' suresh, 'செந்தில்' senthil).
4. `indic-transliteration` renders the Devanagari as ITRANS, and ITRANS is folded to
   lower-case ASCII: long vowels lose their length, retroflex and dental merge, श/ष are
   'sh', anusvara is 'm' before labials and 'n' elsewhere ('संजय' sanjay, 'सिंह' singh).
"""

from __future__ import annotations

import re
from itertools import groupby

from indic_transliteration import sanscript

__all__ = ["indic_to_latin"]

_DEVANAGARI = 0x0900
_BLOCK_SCHWA_DELETING = frozenset({0x0900, 0x0980, 0x0A00, 0x0A80, 0x0B00})
_TAMIL = 0x0B80
_GURMUKHI = 0x0A00
_ADDAK = "\x01"  # placeholder for Gurmukhi addak (doubles the next consonant)

_VIRAMA = "\u094d"
_NUKTA = "\u093c"
_SPECIAL: dict[int, str] = {
    0x09CE: "त्", 0x09F0: "र", 0x09F1: "व",  # Bengali khanda ta, Assamese ra, wa
    0x0A70: "ं", 0x0A71: _ADDAK, 0x0A72: "इ", 0x0A73: "उ", 0x0A75: "्य",  # Gurmukhi
    0x0B71: "व",  # Odia wa
    0x0BD7: "",  # Tamil au length mark
    0x0C58: "च", 0x0C59: "ज", 0x0C5A: "ऱ",  # Telugu archaic letters
    0x0CDE: "ऴ",  # Kannada llla
    0x0D4E: "र्", 0x0D54: "म्", 0x0D55: "य्", 0x0D56: "ऴ्", 0x0D57: "",  # Malayalam
    0x0D7A: "ण्", 0x0D7B: "न्", 0x0D7C: "र्", 0x0D7D: "ल्", 0x0D7E: "ळ्", 0x0D7F: "क्",  # chillus
}  # fmt: skip
_TO_DEVANAGARI = {
    code: _SPECIAL.get(code, chr(_DEVANAGARI + (code & 0x7F))) for code in range(0x0980, 0x0D80)
}

_NASAL_SIGNS = frozenset("\u0901\u0902\u0903")
_MATRAS = frozenset(
    [chr(c) for c in (0x093A, 0x093B, 0x094E, 0x094F, 0x0955, 0x0956, 0x0957, 0x0962, 0x0963)]
    + [chr(c) for c in range(0x093E, 0x094D)]
)
_INDEPENDENT_VOWELS = frozenset(
    [chr(c) for c in range(0x0904, 0x0915)] + ["\u0960", "\u0961"] + [chr(c) for c in range(0x0972, 0x0978)]
)
_CONSONANTS = frozenset(
    [chr(c) for c in range(0x0915, 0x093A)]
    + [chr(c) for c in range(0x0958, 0x0960)]
    + [chr(c) for c in range(0x0978, 0x0980)]
)

_SONORANTS = frozenset("रयवलमनण")
_CONSONANT, _VOWEL, _OTHER = 0, 1, 2


class _Unit:
    """One written syllable piece: a consonant or vowel letter and the signs that follow it."""

    __slots__ = ("base", "kind", "tail")

    def __init__(self, base: str, kind: int) -> None:
        self.base = base
        self.kind = kind
        self.tail = ""

    @property
    def muted(self) -> bool:
        return _VIRAMA in self.tail

    @property
    def voiced(self) -> bool:
        """True when the unit carries a vowel (its own, a vowel sign or the inherent one)."""
        return self.kind == _VOWEL or (self.kind == _CONSONANT and not self.muted)

    @property
    def bare(self) -> bool:
        """A consonant with only its inherent vowel, no sign at all."""
        return self.kind == _CONSONANT and not self.tail


def _units(word: str) -> list[_Unit]:
    units: list[_Unit] = []
    for char in word:
        if char in _CONSONANTS:
            units.append(_Unit(char, _CONSONANT))
        elif char in _INDEPENDENT_VOWELS:
            units.append(_Unit(char, _VOWEL))
        elif units and (char in _MATRAS or char in _NASAL_SIGNS or char in (_VIRAMA, _NUKTA)):
            if char == _NUKTA and units[-1].kind == _CONSONANT and not units[-1].tail:
                units[-1].base += char
            else:
                units[-1].tail += char
        else:
            units.append(_Unit(char, _OTHER))
    return units


def _opens_syllable(letters: list[_Unit], index: int) -> bool:
    """A consonant and vowel start at `index`, or a consonant plus र does ('प्री' in 'गुरप्रीत')."""
    unit = letters[index]
    if unit.kind != _CONSONANT:
        return False
    if unit.voiced:
        return True
    following = letters[index + 1] if index + 1 < len(letters) else None
    return following is not None and following.base == "र" and following.voiced


def _delete_schwas(units: list[_Unit]) -> None:
    letters = [u for u in units if u.kind != _OTHER]
    if len(letters) < 2:
        return
    last = letters[-1]
    # a final schwa stays after a conjunct ending in a sonorant: mishra, aditya, krishna, shukla
    if last.bare and not (letters[-2].muted and last.base in _SONORANTS):
        last.tail = _VIRAMA
    for index in range(len(letters) - 2, 0, -1):
        unit, before = letters[index], letters[index - 1]
        if unit.bare and before.voiced and _opens_syllable(letters, index + 1):
            unit.tail = _VIRAMA


_TAMIL_NASALS = frozenset("ङञणनमऩ")
_TAMIL_VOICED = {"क": "ग", "च": "ज", "ट": "ड", "त": "थ", "प": "ब"}
_TAMIL_BETWEEN_VOWELS = {"क": "ग", "च": "स", "ट": "ड", "त": "थ", "प": "प"}
_TAMIL_INITIAL = {"च": "स", "त": "थ"}


def _voice_tamil(units: list[_Unit]) -> None:
    previous: _Unit | None = None
    for unit in units:
        base = unit.base
        if unit.kind == _CONSONANT and base in _TAMIL_VOICED:
            if previous is None or previous.kind == _OTHER:
                unit.base = _TAMIL_INITIAL.get(base, base)
            elif previous.muted and previous.base in _TAMIL_NASALS:
                unit.base = _TAMIL_VOICED[base]
            elif previous.voiced and not unit.muted:
                unit.base = _TAMIL_BETWEEN_VOWELS[base]
            elif base == "त":
                unit.base = "थ"
        previous = unit


_ITRANS_TOKENS = {
    "j~n": "gy", "RRi": "ri", "RRI": "ri", "LLi": "li", "LLI": "li", ".Dh": "rh", ".D": "r",
    ".N": "n", ".a": "", ".c": "e", ".h": "", "~N": "n", "~n": "n", "Ch": "chh", "Sh": "sh",
    "Th": "th", "Dh": "dh", "A": "a", "I": "i", "U": "u", "T": "t", "D": "d", "N": "n",
    "H": "h", "K": "kh", "G": "gh", "Y": "y", "R": "r", "L": "l", "M": "n", "x": "ksh",
    "è": "e", "ò": "o", "aॉ": "o", "aॅ": "e", "ऩ": "n", "ऑ": "o", "ॉ": "o", "ऍ": "e", "ॅ": "e", "|": " ",
}  # fmt: skip
_ITRANS_PATTERN = re.compile(
    "|".join(re.escape(token) for token in sorted(_ITRANS_TOKENS, key=len, reverse=True))
)
_ANUSVARA_LABIAL = re.compile(r"M(?=[pbm])")
_ANUSVARA_FINAL_H = re.compile(r"M(?=h$)")
_ADDAK_PATTERN = re.compile(_ADDAK + r"([\u0915-\u0939\u0958-\u095f]\u093c?)")
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9 ]+")
_TAMIL_GEMINATES = re.compile(r"(ch|th)\1")


def _itrans_to_ascii(itrans: str) -> str:
    text = _ANUSVARA_LABIAL.sub("m", itrans)
    text = _ANUSVARA_FINAL_H.sub("ng", text)
    text = _ITRANS_PATTERN.sub(lambda m: _ITRANS_TOKENS[m.group()], text)
    return _NOT_ASCII_WORD.sub("", text.lower())


def _block_to_latin(run: str, block: int) -> str:
    if block != _DEVANAGARI:
        run = run.translate(_TO_DEVANAGARI)
        if block == _GURMUKHI:
            run = _ADDAK_PATTERN.sub(r"\1" + _VIRAMA + r"\1", run).replace(_ADDAK, "")
            run = run.replace("स" + _NUKTA, "श")
    units = _units(run)
    if block in _BLOCK_SCHWA_DELETING:
        _delete_schwas(units)
    elif block == _TAMIL:
        _voice_tamil(units)
    devanagari = "".join(unit.base + unit.tail for unit in units)
    latin = _itrans_to_ascii(
        sanscript.transliterate(devanagari, sanscript.DEVANAGARI, sanscript.ITRANS)
    )
    return _TAMIL_GEMINATES.sub(r"\1", latin) if block == _TAMIL else latin


def indic_to_latin(run: str) -> str:
    """A run of Indic letters (one word or part of one) in lower-case ASCII."""
    return "".join(
        _block_to_latin("".join(chars), block) for block, chars in groupby(run, key=lambda c: ord(c) & ~0x7F)
    )
