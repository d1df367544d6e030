"""Value normalisers for match keys: names, e-mails, phones, companies and places.

The dedupe engine builds its blocking and comparison keys from these functions. They are
pure, never raise on bad input (they return "" / () / None instead) and cache per value,
because the same names, domains and cities recur across millions of records.

Transliteration (`to_latin`), by script:

- Latin: diacritics stripped ('Müller' muller, 'Łukasz' lukasz, 'ß' ss).
- Cyrillic, Russian and the rest: passport-style, й 'i', ю 'yu', я 'ya', х 'kh', ц 'ts',
  щ 'shch', ъ/ь dropped ('Александр' aleksandr, 'Юлия' yuliya, 'Дмитрий' dmitrii).
  Ukrainian words (holding і ї є ґ): the Ukrainian national system of 2010 ('Київ' kyiv).
- Devanagari, Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada, Malayalam:
  `indic-transliteration` to ITRANS, folded to ASCII, with the inherent vowel deleted the
  way North Indian names are spelt ('राहुल शर्मा' rahul sharma) and Tamil voicing
  ('முருகன்' murugan). Details in `_indic`.
- Everything else (Georgian, Armenian, Greek, Arabic, Hebrew, CJK ...): anyascii.
"""

from __future__ import annotations

from mappings.normalize.companies import company_key, company_tokens
from mappings.normalize.emails import email_key, email_local_name_tokens, is_role_address
from mappings.normalize.names import (
    HONORIFICS,
    NameKey,
    canonical_given,
    fold,
    is_patronymic,
    name_key,
    phonetic,
    skeleton,
    strip_honorifics,
    to_latin,
)
from mappings.normalize.phones import PhoneParts, phone_key, phone_parts
from mappings.normalize.places import city_key, country_key

__all__ = [
    "HONORIFICS",
    "NameKey",
    "PhoneParts",
    "canonical_given",
    "city_key",
    "company_key",
    "company_tokens",
    "country_key",
    "email_key",
    "email_local_name_tokens",
    "fold",
    "is_patronymic",
    "is_role_address",
    "name_key",
    "phone_key",
    "phone_parts",
    "phonetic",
    "skeleton",
    "strip_honorifics",
    "to_latin",
]
