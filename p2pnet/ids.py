"""Printable ids.

Every id is a short prefix and the lowercase, unpadded RFC 4648 base32 of 32
bytes: ``pm`` for a member (its Ed25519 public key), ``pn`` for a network (the
id of its genesis entry) and ``pe`` for an entry (sha256 of its signed bytes).
Base32 is case-insensitive and survives being read aloud, typed, or put in a
URL or a file name.
"""

from __future__ import annotations

import base64
import binascii
import functools

MEMBER = "pm"
NETWORK = "pn"
ENTRY = "pe"
_PREFIXES = (MEMBER, NETWORK, ENTRY)


def to_text(prefix: str, raw: bytes) -> str:
    """``to_text("pm", key)`` -> ``"pm" + base32(key)``."""
    return prefix + base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def from_text(prefix: str, text: str) -> bytes:
    """Parse a printable id of the given kind; ValueError names what is wrong."""
    text = text.strip()
    if not text.lower().startswith(prefix):
        raise ValueError(f"{text[:12]!r} is not a {_name(prefix)} id (it should start with {prefix!r})")
    body = text[len(prefix) :].upper()
    if len(body) != 52:
        raise ValueError(f"{_name(prefix)} id {text[:16]!r}… should have {len(prefix) + 52} characters")
    try:
        raw = base64.b32decode(body + "====")
    except binascii.Error as exc:
        raise ValueError(f"{_name(prefix)} id {text[:16]!r}… is not valid base32") from exc
    return raw


@functools.lru_cache(maxsize=1 << 16)
def member(raw: bytes) -> str:
    return to_text(MEMBER, raw)


def network(raw: bytes) -> str:
    return to_text(NETWORK, raw)


def entry(raw: bytes) -> str:
    return to_text(ENTRY, raw)


def _name(prefix: str) -> str:
    return {MEMBER: "member", NETWORK: "network", ENTRY: "entry"}.get(prefix, prefix)
