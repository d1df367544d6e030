"""Company match keys: the name without its legal form, quotes and punctuation, in Latin."""

from __future__ import annotations

import re
import unicodedata

from mappings.normalize._text import coerce_text, fold, memoize
from mappings.normalize._translit import to_latin

__all__ = ["company_key", "company_tokens"]

# Legal forms written in their own script: removed before transliteration, wherever they stand.
_NATIVE_FORMS = frozenset(
    {
        "ооо", "оао", "зао", "пао", "ао", "нао", "ип", "тоо", "одо", "чуп", "тов", "пп", "чп", "ат", "пат",
        "прат", "жшс", "нко", "ано", "фгуп", "гуп", "муп", "кфх", "пбоюл",
    }
)  # fmt: skip
# Latin legal forms that are no ordinary word: removed wherever they stand.
_LATIN_FORMS = frozenset(
    {
        "llc", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "gmbh", "mbh", "ohg",
        "gbr", "ug", "haftungsbeschrankt", "ev", "eg", "kgaa", "sarl", "sas", "sasu", "eurl", "snc",
        "srl", "spa", "sl", "slu", "bv", "nv", "oy", "oyj", "aps", "asa", "plc", "llp", "lp", "pvt",
        "pte", "pty", "ooo", "oao", "zao", "pao", "jsc", "pjsc", "ojsc", "cjsc", "gk", "kk", "bhd",
        "sdn", "tbk", "sro", "doo", "kft", "zrt", "nyrt", "aktiengesellschaft", "kommanditgesellschaft",
    }
)  # fmt: skip
# Short forms that are also words ('AG Barr', 'Lotus Spa'): only at the end of a name, where
# legal forms stand in Latin-script countries; 'the' only at the start.
_END_FORMS = frozenset(
    {"co", "company", "ag", "kg", "sa", "se", "as", "cv", "de", "og", "spa", "private", "public", "opc",
     "ab", "and", "sab"}
)  # fmt: skip
_START_FORMS = frozenset({"the", "ab", "and"})

# Legal forms spelt out in full, in their own script or folded Latin.
_SPELT_OUT = (
    "общество с ограниченной ответственностью", "публичное акционерное общество",
    "открытое акционерное общество", "закрытое акционерное общество", "непубличное акционерное общество",
    "акционерное общество", "индивидуальный предприниматель", "товарищество с ограниченной ответственностью",
    "товариство з обмеженою відповідальністю", "limited liability company", "limited liability partnership",
    "public limited company", "private limited company", "gesellschaft mit beschränkter haftung",
    "société à responsabilité limitée", "société anonyme", "sociedad anónima", "sociedad limitada",
    "società per azioni", "società a responsabilità limitata", "naamloze vennootschap",
    "besloten vennootschap", "aktiebolag", "osakeyhtiö", "aksjeselskap", "anpartsselskab",
)  # fmt: skip
_SPELT_OUT_PATTERN = re.compile(r"\b(?:" + "|".join(re.escape(fold(form)) for form in _SPELT_OUT) + r")\b")
# CJK legal forms are written without a space: cut out as substrings.
_CJK_FORMS = re.compile(
    r"股份有限公司|有限公司|公司|株式会社|有限会社|合同会社|\(株\)|（株）|㈱|주식회사|유한회사|\(주\)|㈜"
)
_DOTTED_FORMS = _LATIN_FORMS | (_END_FORMS - {"and"})
_DOTTED_ABBREVIATION = re.compile(r"(?<![^\W\d_])((?:[^\W\d_]\.\s?){2,})")
_AMPERSAND = re.compile(r"\s*[&＆]\s*")
_SPACES = re.compile(r"[\s-]+")


def _undot(match: re.Match[str]) -> str:
    """Join a dotted abbreviation; a dotted legal form ('S.p.A.', 'S.A.') goes unless it opens the name."""
    joined = match.group(1).replace(".", "").replace(" ", "")
    if match.start() > 0 and joined.casefold() in _DOTTED_FORMS:
        return " "
    return joined + " "


def _prepared(name: str) -> list[str]:
    """Folded words with dotted abbreviations joined ('L.L.C.' -> 'llc') and '&' as 'and'."""
    text = _CJK_FORMS.sub(" ", name)
    text = unicodedata.normalize("NFKC", text)
    text = _DOTTED_ABBREVIATION.sub(_undot, text)
    text = _AMPERSAND.sub(" and ", text)
    return _SPELT_OUT_PATTERN.sub(" ", fold(text)).split()


def _trim_edges(words: list[str]) -> list[str]:
    start, end = 0, len(words)
    while start < end and words[start] in _START_FORMS:
        start += 1
    while end > start and words[end - 1] in _END_FORMS:
        end -= 1
    return words[start:end]


@memoize(1 << 16)
def company_tokens(name: str | None) -> tuple[str, ...]:
    """The words of a company name without legal forms, in Latin: 'ООО «Ромашка»' -> ('romashka',)."""
    text = coerce_text(name)
    if not text.strip():
        return ()
    native = [word for word in _prepared(text) if word not in _NATIVE_FORMS]
    latin = [token for word in native for token in _SPACES.split(to_latin(word)) if token]
    kept = [word for word in latin if word not in _LATIN_FORMS]
    return tuple(_trim_edges(kept))


def company_key(name: str | None) -> str:
    """Company name as one match key: folded, Latin, legal forms and punctuation removed."""
    return " ".join(company_tokens(name))
