"""
p2pnet's exceptions:

* P2pnetError
  x EntryRefusedError     .code: Refusal, a stable string
  x KeyFileError          the key file is missing, unreadable or too open
  x EntryNotFoundError
  x MemberNotFoundError
  x ConfigError
  x TokenError            an invite token is forged, expired, used or for another network
  x PeerError
    + PeerUnreachableError
    + PeerMisbehavedError
"""

from __future__ import annotations

import enum


class Refusal(enum.StrEnum):
    """Why an entry was refused. The values are stable: scripts and peers rely on them."""

    BAD_SIGNATURE = "bad-signature"
    WRONG_NETWORK = "wrong-network"
    SEQUENCE_GAP = "sequence-gap"
    BROKEN_CHAIN = "broken-chain"
    FORK = "fork"
    NON_CANONICAL = "non-canonical"
    TOO_LARGE = "too-large"
    FUTURE_TIMESTAMP = "future-timestamp"
    UNKNOWN_KIND = "unknown-kind"
    BAD_FIELD = "bad-field"
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported-version"
    KEY_RETIRED = "key-retired"
    BLOCKED = "blocked"  # the author is on this node's block list: not stored, not relayed


class P2pnetError(Exception):
    """Base class of every error p2pnet raises on purpose."""


class EntryRefusedError(P2pnetError):
    """An entry failed validation; nothing was stored."""

    def __init__(self, code: Refusal, detail: str) -> None:
        super().__init__(f"{detail} ({code})")
        self.code = code
        self.detail = detail


class KeyFileError(P2pnetError):
    """The member's key file is missing, unreadable, malformed or readable by others."""


class EntryNotFoundError(P2pnetError):
    """No entry has that id."""


class MemberNotFoundError(P2pnetError):
    """No member matches that id, id prefix or name."""


class ConfigError(P2pnetError):
    """The node's home or configuration is missing or invalid."""


class TokenError(P2pnetError):
    """An invite token was refused."""


class PeerError(P2pnetError):
    """Talking to a peer failed."""


class PeerUnreachableError(PeerError):
    """The peer could not be reached."""


class PeerMisbehavedError(PeerError):
    """The peer answered with something we refuse."""
