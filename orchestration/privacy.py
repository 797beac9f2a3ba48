"""Pseudonyms for direct identifiers: the keyed hash shared with SQL (macros/privacy.sql), and pattern redaction."""

from __future__ import annotations

import hashlib
import re

# What an e-mail address or a phone number looks like in free text (a malformed line, a comment).
EMAIL = re.compile(r"[^\s@,;\"'<>()]+@[^\s@,;\"'<>()]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s\-()]{6,18}\d(?![\w.])")


def keyed_hash(key: str, value: str) -> str:
    """sha256(key || sha256(key || value)) as hex: the same as the SQL macro `pseudonym()`."""
    inner = hashlib.sha256((key + value).encode("utf-8")).hexdigest()
    return hashlib.sha256((key + inner).encode("utf-8")).hexdigest()


def redact_text(text: str | None, key: str | None) -> str | None:
    """Every e-mail address and phone number in a text replaced by its pseudonym (by a mark without a key)."""
    if text is None:
        return None
    text = EMAIL.sub(lambda m: "email:" + (keyed_hash(key, m.group(0).lower())[:16] if key else "redacted"), text)
    return PHONE.sub(lambda m: _phone(m, key), text)


def _phone(match: re.Match, key: str | None) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # dates (2026-11-22) and amounts are not phone numbers: a phone has 7 to 15 digits and no date shape
    if not 7 <= len(digits) <= 15 or re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", match.group(0)):
        return match.group(0)
    return "phone:" + (keyed_hash(key, digits)[:16] if key else "redacted")
