"""E-mail match keys: one key per mailbox, whatever alias of it a customer typed."""

from __future__ import annotations

import re

from mappings.normalize._text import coerce_text, memoize
from mappings.normalize._translit import to_latin
from mappings.transforms import TransformError, normalize_email

__all__ = ["email_key", "email_local_name_tokens", "is_role_address"]

_GMAIL = "gmail.com"
_YANDEX = "yandex.ru"
_DOMAIN_ALIASES = {
    "googlemail.com": _GMAIL,
    **{
        domain: _YANDEX
        for domain in (
            "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "yandex.uz", "yandex.com.tr",
            "yandex.com.am", "yandex.com.ge", "yandex.az", "yandex.co.il", "yandex.kg", "yandex.lt",
            "yandex.lv", "yandex.md", "yandex.tj", "yandex.tm", "yandex.ee", "narod.ru",
        )
    },
}  # fmt: skip
# Providers where 'user+tag' reaches 'user'. Mail.ru's family is here too: '+' is not
# allowed in their logins, so cutting at '+' can never merge two real mailboxes.
_PLUS_TAGS = frozenset(
    {
        _GMAIL, _YANDEX, "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de",
        "hotmail.it", "hotmail.es", "live.com", "live.co.uk", "live.fr", "live.de", "live.ru", "msn.com",
        "outlook.fr", "outlook.de", "outlook.es", "icloud.com", "me.com", "mac.com", "fastmail.com",
        "fastmail.fm", "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "mail.ru", "bk.ru",
        "inbox.ru", "list.ru", "internet.ru",
    }
)  # fmt: skip
# Yahoo's disposable addresses are 'base-keyword'; hyphens are not allowed in Yahoo IDs.
_HYPHEN_TAGS = frozenset({"yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.co.in", "ymail.com",
                          "rocketmail.com"})  # fmt: skip

_DISPLAY_FORM = re.compile(r"<([^<>]*@[^<>]*)>")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)


def _address(email: str | None) -> tuple[str, str] | None:
    """The validated (local, domain) of an address, lower case; None when it is not one."""
    text = coerce_text(email).strip()
    if not text or len(text) > 320 or "@" not in text:
        return None
    display = _DISPLAY_FORM.search(text)  # 'Ivan Petrov <ivan@example.com>'
    if display:
        text = display.group(1)
    text = _MAILTO.sub("", text)
    try:
        normalized = normalize_email(text)
    except TransformError:
        return None
    local, _, domain = normalized.rpartition("@")
    return local, domain


@memoize(1 << 16)
def email_key(email: str | None) -> str:
    """Lower-case address with provider aliases removed (gmail dots and +tags, yandex domains)."""
    address = _address(email)
    if address is None:
        return ""
    local, domain = address
    domain = _DOMAIN_ALIASES.get(domain, domain)
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0] or local
    elif domain in _HYPHEN_TAGS:
        local = local.split("-", 1)[0] or local
    if domain == _GMAIL:
        local = local.replace(".", "") or local
    elif domain == _YANDEX:
        local = local.replace(".", "-")  # Yandex logins treat '.' and '-' as the same
    return f"{local}@{domain}"


_LOCAL_SEPARATORS = re.compile(r"[^a-z]+")


@memoize(1 << 16)
def email_local_name_tokens(email: str | None) -> tuple[str, ...]:
    """Alphabetic tokens of the local part ('ivan.petrov85+crm' -> ('ivan', 'petrov'))."""
    address = _address(email)
    if address is None:
        return ()
    local = address[0].split("+", 1)[0]
    return tuple(token for token in _LOCAL_SEPARATORS.split(to_latin(local)) if token)


_ROLES = frozenset(
    {
        "info", "sales", "office", "admin", "administrator", "support", "hello", "contact", "contacts",
        "noreply", "donotreply", "dontreply", "mail", "email", "enquiries", "enquiry", "inquiries",
        "inquiry", "billing", "accounts", "accounting", "finance", "hr", "jobs", "careers", "team",
        "help", "helpdesk", "service", "services", "customerservice", "marketing", "press", "media",
        "pr", "webmaster", "postmaster", "hostmaster", "abuse", "security", "privacy", "legal",
        "orders", "order", "shop", "store", "booking", "bookings", "reservations", "reception",
        "feedback", "newsletter", "notifications", "alerts", "it", "all", "staff", "general",
        "secretary", "buh", "bukh", "buhgalteria", "zakaz", "priemnaya", "ofis", "kontakt", "kontakty",
        "vertrieb", "verkauf", "anfrage", "bestellung", "rechnung", "empfang", "bureau", "accueil",
        "ventas", "contacto", "info-ru", "mailer-daemon", "root", "office-manager", "manager",
    }
)  # fmt: skip
_ROLE_PREFIXES = frozenset(
    {"info", "sales", "support", "admin", "office", "contact", "hello", "noreply", "billing", "hr", "jobs",
     "careers", "marketing", "press", "help", "service", "team", "orders", "booking", "zakaz", "buh"}
)  # fmt: skip
_ROLE_NOISE = re.compile(r"[._\-\d]+")


@memoize(1 << 16)
def is_role_address(email: str | None) -> bool:
    """True for shared mailboxes (info@, sales@, noreply@ ...) that say nothing about a person."""
    address = _address(email)
    if address is None:
        return False
    local = address[0].split("+", 1)[0]
    squeezed = _ROLE_NOISE.sub("", local)  # 'no-reply', 'info2'; not initials like 'p.r'
    if local in _ROLES or (len(squeezed) >= 4 and squeezed in _ROLES):
        return True
    tokens = [token for token in _ROLE_NOISE.split(local) if token]
    return len(tokens) == 2 and tokens[0] in _ROLE_PREFIXES
