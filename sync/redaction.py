"""Redaction in one place: secret values never reach logs, error messages, the audit log or exports."""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["RedactingFilter", "install_log_redaction", "redact", "register_secret"]

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
# credentials that may sit inside URLs or headers even when we never saw them as config values
_PATTERNS = (
    re.compile(r"(?i)(://[^:/@\s]+:)([^@\s]+)(@)"),  # user:password@ in URLs
    re.compile(r"(?i)(\b(?:authorization|api[_-]?key|token|secret|password)\b\s*[:=]\s*)(\S+)"),
)


def register_secret(value: str) -> None:
    """Remember a secret value (from the environment or a secret block) so it is masked everywhere."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Mask every registered secret and credential-looking fragment in a piece of text."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, _MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + _MASK + (m.group(3) if m.lastindex == 3 else ""), text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the redacting filter to every handler of a logger (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
