"""p2pnet: a federated peer-to-peer directory for networks of organisations."""

__version__ = "0.1.0"

from .entries import Entry
from .errors import (
    EntryNotFoundError,
    EntryRefusedError,
    KeyFileError,
    MemberNotFoundError,
    P2pnetError,
    Refusal,
)
from .identity import Identity

__all__ = [
    "Entry",
    "EntryNotFoundError",
    "EntryRefusedError",
    "Identity",
    "KeyFileError",
    "MemberNotFoundError",
    "P2pnetError",
    "Refusal",
]
