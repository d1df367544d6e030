"""Guess a spreadsheet's column mapping from its headers and sample values (`crmsync migrate`).

Headers are matched against English and Russian names of each customer field; sample values
then confirm or overrule them: a column whose values parse as e-mails is mapped to e-mails, and
one whose values parse as phone numbers to phones, whatever its header says. Columns that look
like nothing known are kept as custom fields, so nothing in the file is lost. The result is a
plain mapping (`MappingSpec` data) a person can read, edit and save as YAML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from mappings.spec import MappingSpec
from mappings.transforms import TransformError, normalize_email, normalize_phone

__all__ = ["SKIP", "TARGET_LABELS", "ColumnGuess", "MappingGuess", "guess_mapping", "guess_from_spec"]

SKIP = "skip"
# the fields a spreadsheet column may feed, with the words a person would use for them
TARGET_LABELS: dict[str, str] = {
    "name": "full name (split into given / family / patronymic)",
    "full_name": "full name, as written (not split)",
    "given_name": "given name",
    "family_name": "family name",
    "patronymic": "patronymic",
    "emails": "e-mail",
    "phones": "phone",
    "company": "company",
    "job_title": "job title",
    "address.street": "street address",
    "address.city": "city",
    "address.region": "region / state",
    "address.postal_code": "postal code",
    "address.country": "country",
    "birth_date": "birth date",
    "tags": "tags",
    "locale": "language",
}
# normalised header → field; a header is normalised by `_norm` (lower case, ё → е, no punctuation)
_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("full name", "fullname", "name", "fio", "фио", "ф и о", "client", "customer", "contact",
             "contact name", "client name", "customer name", "person", "клиент", "контакт", "контактное лицо",
             "имя фамилия", "фамилия имя", "фамилия имя отчество", "полное имя", "покупатель", "заказчик"),
    "given_name": ("first name", "firstname", "given name", "forename", "first", "имя"),
    "family_name": ("last name", "lastname", "surname", "family name", "last", "фамилия"),
    "patronymic": ("patronymic", "middle name", "отчество"),
    "emails": ("email", "e mail", "mail", "email address", "e mail address", "почта", "эл почта",
               "электронная почта", "емейл", "имейл", "емайл", "мейл", "e-mail"),
    "phones": ("phone", "phones", "telephone", "tel", "mobile", "mobile phone", "cell", "cell phone",
               "phone number", "work phone", "home phone", "whatsapp", "телефон", "тел", "моб", "мобильный",
               "мобильный телефон", "сотовый", "номер телефона", "номер", "рабочий телефон", "контактный телефон"),
    "company": ("company", "company name", "organization", "organisation", "business", "employer", "account",
                "компания", "организация", "фирма", "название компании", "юрлицо", "юр лицо", "место работы",
                "контрагент", "наименование", "наименование организации", "клиент юрлицо"),
    "job_title": ("job title", "title", "position", "role", "job", "должность", "позиция"),
    "address.street": ("address", "street", "street address", "адрес", "улица"),
    "address.city": ("city", "town", "город", "населенный пункт", "нас пункт"),
    "address.region": ("region", "state", "province", "county", "регион", "область", "край"),
    "address.postal_code": ("zip", "zip code", "postcode", "post code", "postal code", "индекс",
                            "почтовый индекс"),
    "address.country": ("country", "страна"),
    "birth_date": ("birthday", "birth date", "date of birth", "dob", "born", "дата рождения", "день рождения",
                   "др"),
    "tags": ("tags", "tag", "labels", "теги", "метки"),
    "locale": ("language", "lang", "locale", "язык"),
}
# a word inside a longer header that names the field ("Mobile (work)", "Телефон клиента")
_WORDS: dict[str, tuple[str, ...]] = {
    "phones": ("phone", "tel", "mobile", "телефон", "тел", "моб", "сотов"),
    "emails": ("email", "mail", "почта", "емейл", "имейл"),
    "name": ("фио", "name"),
    "company": ("company", "компания", "организац"),
    "address.city": ("city", "город"),
    "address.street": ("address", "адрес"),
    "birth_date": ("birth", "рожден"),
}
# legal forms that make a value a company's name, not a person's
_LEGAL_FORMS = frozenset({"ооо", "оао", "зао", "пао", "ао", "ип", "нко", "гуп", "муп", "llc", "ltd", "inc", "gmbh",
                          "corp", "co", "plc", "ag", "sa", "bv", "oy", "ab", "llp", "lp", "pte", "pty"})
# headers that promise the family name first ("ФИО" is Фамилия Имя Отчество)
_FAMILY_FIRST = frozenset({"фио", "ф и о", "фамилия имя", "фамилия имя отчество"})
_LIST_TARGETS = frozenset({"emails", "phones", "tags"})
_SAMPLE = 200  # rows looked at per column
_SHARE = 0.6  # of the non-empty sampled values that must parse for the values to decide
_HEADER_SHARE = 0.3  # ... when the header already says so (the odd bad cell is dropped and reported)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")


def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKC", str(header)).lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


@dataclass
class ColumnGuess:
    """One column: where it goes (a customer field, `custom.<name>` or `skip`) and why."""

    column: str
    target: str
    reason: str
    samples: list[str] = field(default_factory=list)
    confidence: float = 0.0


@dataclass
class MappingGuess:
    """Every column's guess, plus the phone region national numbers are read in."""

    columns: list[ColumnGuess]
    phone_region: str | None = None
    country_column: str | None = None

    def target_of(self, column: str) -> str:
        return next(c.target for c in self.columns if c.column == column)

    def set_target(self, column: str, target: str) -> None:
        """Change one column's field (a person's edit); raises ValueError naming the known fields."""
        target = target.strip()
        if target != SKIP and target not in TARGET_LABELS and not (target.startswith("custom.") and len(target) > 7):
            raise ValueError(f"{target!r} is not a field; use one of {', '.join(TARGET_LABELS)}, "
                             f"custom.<name> or {SKIP}")
        for guess in self.columns:
            if guess.column == column:
                guess.target, guess.reason, guess.confidence = target, "set by you", 1.0
                if target == "address.country":
                    self.country_column = column
                elif self.country_column == column:
                    self.country_column = None
                return
        raise ValueError(f"no column {column!r}; columns: {', '.join(c.column for c in self.columns)}")

    def spec_data(self) -> dict[str, Any]:
        """The mapping as plain data, in the mapping-file format (`mappings/spec.py`)."""
        rules: list[dict[str, Any]] = []
        for guess in self.columns:
            if guess.target == SKIP:
                continue
            rule: dict[str, Any] = {"from": guess.column, "to": guess.target}
            if guess.target == "name" and _norm(guess.column) in _FAMILY_FIRST:
                rule["transform"] = {"person_name": {"order": "family_first"}}
            if guess.target == "phones" and self.country_column:
                rule["transform"] = {"phone": {"region_from": self.country_column}}
            if guess.target not in ("name", "given_name", "family_name"):
                rule["on_error"] = "skip"  # a bad cell drops that value (and says so), never the customer
            rules.append(rule)
        data: dict[str, Any] = {"entity": "customer"}
        if self.phone_region:
            data["defaults"] = {"phone_region": self.phone_region}
        data["fields"] = rules
        return data

    def spec(self) -> MappingSpec:
        """The validated mapping."""
        return MappingSpec.model_validate(self.spec_data())

    def to_yaml(self, source_name: str) -> str:
        """The mapping file a person can edit and pass to `crmsync migrate --map` or `crmsync dedupe --map`."""
        header = (f"# Columns of {source_name} → customer fields, guessed by `crmsync migrate` and confirmed.\n"
                  "# Edit `to:` (a customer field or custom.<name>), delete a rule to skip a column, then\n"
                  f"# re-run: crmsync migrate {source_name} --map <this file>\n")
        return header + yaml.safe_dump(self.spec_data(), allow_unicode=True, sort_keys=False, width=120)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _share(values: Sequence[str], test: Any) -> float:
    if not values:
        return 0.0
    return sum(1 for v in values if test(v)) / len(values)


def _is_email(value: str) -> bool:
    if "@" not in value:
        return False
    try:
        normalize_email(value)
    except TransformError:
        return False
    return True


_ANY_REGION = ("US", "GB", "RU", "DE", "FR", "IN", "KZ", "UA")


def _phone_checker(region: str | None) -> Any:
    """A test telling phone numbers from other digits; national numbers pass if valid in a common country."""
    regions = (region,) if region else _ANY_REGION

    def is_phone(value: str) -> bool:
        digits = sum(ch.isdigit() for ch in value)
        if not (7 <= digits <= 15) or not _PHONE_CHARS.match(value):
            return False
        for candidate in regions:
            try:
                normalize_phone(value, candidate)
            except TransformError:
                continue
            return True
        return False

    return is_phone


def _is_company(value: str) -> bool:
    return any(word.lower().rstrip(".") in _LEGAL_FORMS for word in _WORD.findall(value))


def _is_person_name(value: str) -> bool:
    if _is_company(value):
        return False
    words = _WORD.findall(value)
    return 2 <= len(words) <= 4 and len("".join(words)) >= len(value.replace(" ", "")) - 2 \
        and all(w[0].isupper() for w in words)


def _by_header(header: str) -> tuple[str | None, float]:
    norm = _norm(header)
    if not norm:
        return None, 0.0
    for target, names in _HEADERS.items():
        if norm in names or norm.replace(" ", "") in names:
            return target, 0.9
    tokens = norm.split()
    for target, stems in _WORDS.items():
        if any(tok.startswith(stem) for tok in tokens for stem in stems):
            return target, 0.6
    return None, 0.0


def _custom_name(header: str) -> str:
    norm = _norm(header).replace(" ", "_")
    return f"custom.{norm or 'column'}"


def guess_mapping(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], *,
                  phone_region: str | None = None) -> MappingGuess:
    """Guess each column's customer field from its header and up to 200 sample values.

    `phone_region` (ISO code) reads national phone numbers; without it, Russian headers or
    values suggest RU and anything else leaves national numbers to a Country column.
    """
    sample = rows[:_SAMPLE]
    values = {c: [t for t in (_text(r.get(c)) for r in sample) if t] for c in columns}
    cyrillic = any(_CYRILLIC.search(c) for c in columns) or any(
        _CYRILLIC.search(v) for vs in values.values() for v in vs[:20])
    region = phone_region or ("RU" if cyrillic else None)
    is_phone = _phone_checker(region)
    guesses: list[ColumnGuess] = []
    for column in columns:
        found = values[column]
        shown = found[:3]
        by_header, confidence = _by_header(column)
        email_share = _share(found, _is_email)
        phone_share = _share(found, is_phone) if email_share < _SHARE else 0.0
        if email_share >= _SHARE or (by_header == "emails" and email_share >= _HEADER_SHARE):
            reason = f"{email_share:.0%} of its values are e-mail addresses"
            if by_header == "emails":
                reason = f"header, and {reason}"
            guesses.append(ColumnGuess(column, "emails", reason, shown, max(confidence, email_share)))
        elif (phone_share >= _SHARE and by_header not in ("address.postal_code", "birth_date")) or (
                by_header == "phones" and phone_share >= _HEADER_SHARE):
            reason = f"{phone_share:.0%} of its values are phone numbers"
            if by_header == "phones":
                reason = f"header, and {reason}"
            guesses.append(ColumnGuess(column, "phones", reason, shown, max(confidence, phone_share)))
        elif by_header in ("emails", "phones") and found:
            # the header says phone or e-mail but the values do not: keep them, as a custom field
            what = "e-mail addresses" if by_header == "emails" else "phone numbers"
            guesses.append(ColumnGuess(column, _custom_name(column),
                                       f"header says {TARGET_LABELS[by_header]}, but most values are not {what}",
                                       shown, 0.3))
        elif found and _share(found, _is_company) >= _SHARE and by_header in (None, "name", "full_name", "company"):
            reason = f"{_share(found, _is_company):.0%} of its values are company names (ООО, LLC, ...)"
            guesses.append(ColumnGuess(column, "company", reason if by_header != "company" else f"header, and {reason}",
                                       shown, 0.95 if by_header == "company" else 0.7))
        elif by_header is not None:
            target = by_header
            if target == "given_name" and found and _share(found, _is_person_name) >= _SHARE:
                target = "name"  # "Имя" holding "Иванов Иван": the whole name
            guesses.append(ColumnGuess(column, target, f"header {column!r}", shown, confidence))
        elif found and _share(found, _is_person_name) >= 0.8:
            guesses.append(ColumnGuess(column, "name", "its values look like people's names", shown, 0.5))
        elif found:
            guesses.append(ColumnGuess(column, _custom_name(column), "not a known field: kept as a custom field",
                                       shown, 0.2))
        else:
            guesses.append(ColumnGuess(column, SKIP, "empty in the sample", shown, 0.0))
    _one_per_scalar(guesses)
    country = next((g.column for g in guesses if g.target == "address.country"), None)
    return MappingGuess(guesses, phone_region=region, country_column=country)


def _one_per_scalar(guesses: list[ColumnGuess]) -> None:
    """A single-valued field takes one column (the surest); the others are kept as custom fields."""
    best: dict[str, ColumnGuess] = {}
    for guess in guesses:
        if guess.target in _LIST_TARGETS or guess.target == SKIP or guess.target.startswith("custom."):
            continue
        if guess.target not in best or guess.confidence > best[guess.target].confidence:
            best[guess.target] = guess
    for guess in guesses:
        held = best.get(guess.target)
        if held is not None and held is not guess:
            guess.reason = f"{guess.target} is already column {held.column!r}: kept as a custom field"
            guess.target = _custom_name(guess.column)
    names = best.get("name")
    if names is not None and ("given_name" in best or "family_name" in best):
        # separate name columns are the better source; the whole-name column still matches people
        names.target, names.reason = "full_name", f"{names.reason} (given and family names have their own columns)"


def guess_from_spec(spec: MappingSpec, columns: Sequence[str],
                    rows: Sequence[Mapping[str, Any]] = ()) -> MappingGuess:
    """A saved mapping shown the same way as a guess (for `--map` and re-runs), with sample values."""
    by_column: dict[str, str] = {}
    country = None
    region_from = None
    for rule in spec.fields:
        for column in rule.from_:
            by_column.setdefault(column, rule.to)
            if rule.to == "address.country":
                country = column
        for call in rule.transform:
            if call.name == "phone" and call.options.get("region_from"):
                region_from = str(call.options["region_from"])
    samples = {c: [t for t in (_text(r.get(c)) for r in rows[:_SAMPLE]) if t][:3] for c in columns}
    guesses = [ColumnGuess(c, by_column.get(c, SKIP), "from the mapping file" if c in by_column else
                           "not in the mapping file", samples[c], 1.0) for c in columns]
    missing = [c for c in by_column if c not in columns]
    for column in missing:
        guesses.append(ColumnGuess(column, by_column[column], "in the mapping file but not in this file", [], 0.0))
    region = spec.defaults.get("phone_region")
    return MappingGuess(guesses, phone_region=str(region) if region else None, country_column=region_from or country)

