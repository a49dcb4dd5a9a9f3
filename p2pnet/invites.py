"""Invite tokens: signed, expiring, limited-use tickets into a network.

A token is text: ``p2pnet-invite-`` + base64url (unpadded) of the canonical
msgpack array ``[payload, signature]`` where::

    payload   = [1, network, inviter, endpoint, expires_ms, uses, secret]
    signature = Ed25519(inviter, b"p2pnet/invite/v1\\x00" || canonical(payload))

The inviter's node keeps sha256(secret) with the uses left, so a token can
be spent only as often as it says, and only at the node that issued it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from . import codec, ids
from .entries import now_ms
from .errors import EntryRefusedError, TokenError
from .identity import Identity, verify

PREFIX = "p2pnet-invite-"
SIGN_PREFIX = b"p2pnet/invite/v1\x00"


@dataclass(frozen=True)
class Invite:
    network: bytes
    inviter: bytes
    endpoint: str
    expires: int
    uses: int
    secret: bytes

    @property
    def secret_hash(self) -> bytes:
        return hashlib.sha256(self.secret).digest()


def create(who: Identity, network: bytes, endpoint: str, *, ttl_ms: int, uses: int) -> tuple[Invite, str]:
    if uses < 1:
        raise TokenError("an invite must allow at least one use")
    inv = Invite(network, who.public, endpoint, now_ms() + ttl_ms, uses, os.urandom(16))
    payload = codec.encode([1, inv.network, inv.inviter, inv.endpoint, inv.expires, inv.uses, inv.secret])
    sig = who.sign(SIGN_PREFIX + payload)
    token = codec.encode([codec.decode(payload), sig])
    return inv, PREFIX + base64.urlsafe_b64encode(token).decode().rstrip("=")


def parse(token: str, *, now: int | None = None) -> Invite:
    """Decode a token and check its signature and expiry (not whether it was used)."""
    token = "".join(token.split())
    if not token.startswith(PREFIX):
        raise TokenError(f"not a p2pnet invite (it should start with {PREFIX!r})")
    body = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        value = codec.decode(raw)
    except (binascii.Error, ValueError, EntryRefusedError):
        raise TokenError("the invite is damaged: it does not decode (was it cut or changed?)") from None
    try:
        payload, sig = value
        version, network, inviter, endpoint, expires, uses, secret = payload
        ok = (
            version == 1
            and all(isinstance(x, bytes) and len(x) == 32 for x in (network, inviter))
            and isinstance(endpoint, str)
            and isinstance(expires, int)
            and isinstance(uses, int)
            and isinstance(secret, bytes)
            and isinstance(sig, bytes)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TokenError("the invite is damaged: its fields are not what an invite holds")
    if not verify(inviter, SIGN_PREFIX + codec.encode(payload), sig):
        raise TokenError("the invite's signature does not verify: it was forged or changed")
    inv = Invite(network, inviter, endpoint, expires, uses, secret)
    if (now_ms() if now is None else now) > expires:
        raise TokenError(
            f"the invite expired; ask {ids.member(inviter)[:12]}… for a new one (`p2pnet invite`)"
        )
    return inv
