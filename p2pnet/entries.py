"""Entries: the signed, hash-chained records every feed is made of.

Byte layout (docs/protocol.md has a worked example)::

    content = canonical msgpack of the array
              [version, network, author, seq, prev, timestamp, kind, body]
    signed  = content || signature                       (signature: 64 bytes)
    signature = Ed25519(author, b"p2pnet/entry/v1\\x00" || content)
    id      = sha256(signed)

``network`` is the network id (32 bytes) or empty in the network's genesis
entry, whose id *is* the network id. ``prev`` is nil at seq 1 and the id of
the author's previous entry after that. ``timestamp`` is milliseconds since
the Unix epoch, UTC.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from . import codec, identity, ids, schema
from .errors import EntryRefusedError, Refusal

VERSION = 1
SIGN_PREFIX = b"p2pnet/entry/v1\x00"
ROTATE_PREFIX = b"p2pnet/rotate/v1\x00"
SIG_LEN = 64
MAX_ENTRY_BYTES = 64 * 1024
MAX_FUTURE_MS = 10 * 60 * 1000
MAX_SEQ = 2**53


@dataclass(frozen=True, slots=True)
class Entry:
    """A decoded entry. ``raw`` is the signed bytes; ``id`` is their sha256."""

    version: int
    network: bytes
    author: bytes
    seq: int
    prev: bytes | None
    ts: int
    kind: str
    body: dict[str, Any]
    signature: bytes
    raw: bytes
    id: bytes

    @property
    def content(self) -> bytes:
        return self.raw[:-SIG_LEN]

    @property
    def is_genesis(self) -> bool:
        return self.kind == "network"

    @property
    def author_id(self) -> str:
        return ids.member(self.author)

    @property
    def entry_id(self) -> str:
        return ids.entry(self.id)

    def verify_signature(self) -> bool:
        return identity.verify(self.author, SIGN_PREFIX + self.content, self.signature)


def now_ms() -> int:
    return int(time.time() * 1000)


def create(
    who: identity.Identity,
    *,
    network: bytes,
    seq: int,
    prev: bytes | None,
    kind: str,
    body: dict[str, Any],
    ts: int | None = None,
) -> Entry:
    """Build, check and sign an entry. Raises EntryRefusedError for a bad body."""
    schema.validate_body(kind, body)
    ts = now_ms() if ts is None else ts
    content = codec.encode([VERSION, network, who.public, seq, prev, ts, kind, body])
    raw = content + who.sign(SIGN_PREFIX + content)
    entry = decode(raw)  # one code path: what we write is what others will read
    check_structure(entry)
    return entry


def decode(raw: bytes, *, trusted: bool = False) -> Entry:
    """Parse signed bytes; refuse oversize, malformed or non-canonical input.

    Does *not* verify the signature (that is the expensive part, and the store
    batches it) nor the body schema (``check_structure``). ``trusted``: bytes from
    this node's own log, checked when stored (see ``codec.decode``).
    """
    if not isinstance(raw, bytes):
        raise EntryRefusedError(Refusal.MALFORMED, "an entry is a byte string")
    if len(raw) > MAX_ENTRY_BYTES:
        raise EntryRefusedError(
            Refusal.TOO_LARGE, f"entry is {len(raw)} bytes, at most {MAX_ENTRY_BYTES} allowed"
        )
    if len(raw) <= SIG_LEN:
        raise EntryRefusedError(Refusal.MALFORMED, f"entry is only {len(raw)} bytes")
    value = codec.decode(raw[:-SIG_LEN], max_len=MAX_ENTRY_BYTES, trusted=trusted)
    if not isinstance(value, list) or len(value) != 8:
        raise EntryRefusedError(Refusal.MALFORMED, "entry content must be an array of 8 items")
    version, network, author, seq, prev, ts, kind, body = value
    if version != VERSION:
        raise EntryRefusedError(
            Refusal.UNSUPPORTED_VERSION, f"entry format version {version!r} is not supported"
        )
    if not isinstance(network, bytes) or len(network) not in (0, 32):
        raise EntryRefusedError(Refusal.MALFORMED, "network must be 32 bytes (or empty in a genesis)")
    if not isinstance(author, bytes) or len(author) != 32:
        raise EntryRefusedError(Refusal.MALFORMED, "author must be a 32-byte Ed25519 key")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise EntryRefusedError(Refusal.MALFORMED, f"seq must be a whole number from 1, not {seq!r}")
    if seq == 1 and prev is not None:
        raise EntryRefusedError(Refusal.MALFORMED, "the first entry of a feed has no previous hash")
    if seq > 1 and (not isinstance(prev, bytes) or len(prev) != 32):
        raise EntryRefusedError(Refusal.MALFORMED, "prev must be the 32-byte id of the previous entry")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < 2**63:
        raise EntryRefusedError(Refusal.MALFORMED, "timestamp must be milliseconds since 1970")
    if not isinstance(kind, str):
        raise EntryRefusedError(Refusal.MALFORMED, "kind must be text")
    if not isinstance(body, dict):
        raise EntryRefusedError(Refusal.MALFORMED, "body must be a map")
    return Entry(
        version=version,
        network=network,
        author=author,
        seq=seq,
        prev=prev,
        ts=ts,
        kind=kind,
        body=body,
        signature=raw[-SIG_LEN:],
        raw=raw,
        id=hashlib.sha256(raw).digest(),
    )


def check_structure(entry: Entry) -> None:
    """Checks that need no store: the body schema and where a genesis may stand."""
    schema.validate_body(entry.kind, entry.body)
    if entry.is_genesis:
        if entry.seq != 1 or entry.network:
            raise EntryRefusedError(
                Refusal.BAD_FIELD,
                "a network (genesis) entry must be its author's first entry, with no network id",
            )
    elif not entry.network:
        raise EntryRefusedError(Refusal.WRONG_NETWORK, "entry names no network")
    if entry.kind == "rotate":
        new = entry.body["key"]
        if new == entry.author:
            raise schema.bad("key", "a key cannot be handed over to itself")
        if not identity.verify(new, rotation_message(entry.network, entry.author, new),
                               entry.body["proof"]):  # fmt: skip
            raise schema.bad("proof", "is not the new key's signature consenting to the hand-over")
    elif entry.kind == "recover" and entry.body["member"] == entry.author:
        raise schema.bad("member", "a key cannot claim itself back")


def rotation_message(network: bytes, old: bytes, new: bytes) -> bytes:
    """What the new key signs to consent to taking over ``old``'s feed (``rotate.proof``)."""
    return ROTATE_PREFIX + network + old + new


def check_context(entry: Entry, network: bytes | None, now: int) -> None:
    """Checks against this node's network and clock."""
    if entry.ts > now + MAX_FUTURE_MS:
        raise EntryRefusedError(
            Refusal.FUTURE_TIMESTAMP,
            f"timestamp is {(entry.ts - now) // 1000} s in the future "
            f"(at most {MAX_FUTURE_MS // 1000} s allowed)",
        )
    if network is None:
        return
    if entry.is_genesis:
        if entry.id != network:
            raise EntryRefusedError(
                Refusal.WRONG_NETWORK, f"genesis {ids.entry(entry.id)} is not this network's"
            )
    elif entry.network != network:
        raise EntryRefusedError(
            Refusal.WRONG_NETWORK,
            f"entry is for network {ids.network(entry.network)}, this node is in {ids.network(network)}",
        )


def parse(raw: bytes, *, network: bytes | None, now: int | None = None) -> Entry:
    """Decode and fully check one entry on its own, signature included."""
    entry = decode(raw)
    check_structure(entry)
    check_context(entry, network, now_ms() if now is None else now)
    if not entry.verify_signature():
        raise EntryRefusedError(Refusal.BAD_SIGNATURE, f"signature of {entry.entry_id} does not verify")
    return entry
