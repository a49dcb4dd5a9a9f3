"""A member's identity: an Ed25519 key pair kept in the node's home.

The private key is a PKCS#8 PEM file, mode 0600; a key file that others can
read is refused, as ssh refuses one. Signing and verifying use libsodium
(PyNaCl), which verifies about twice as fast as OpenSSL here
(docs/performance.md); the file format is cryptography's, so standard tools
can read it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import ids
from .errors import KeyFileError

KEY_FILE = "member.key"


@dataclass(frozen=True)
class Identity:
    """A member's key pair."""

    seed: bytes = field(repr=False)
    public: bytes

    @classmethod
    def generate(cls) -> Identity:
        return cls.from_seed(os.urandom(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        if len(seed) != 32:
            raise KeyFileError("an Ed25519 seed has 32 bytes")
        return cls(seed=seed, public=bytes(nacl.signing.SigningKey(seed).verify_key))

    @property
    def member_id(self) -> str:
        return ids.member(self.public)

    def sign(self, message: bytes) -> bytes:
        """Detached Ed25519 signature of ``message``."""
        sk = self.seed + self.public
        return nacl.bindings.crypto_sign(message, sk)[:64]

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None) -> Identity:
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError as exc:  # encrypted without passphrase, or the reverse
            raise KeyFileError(f"key file: {exc}") from exc
        except ValueError as exc:
            raise KeyFileError(f"not a valid PEM private key (or wrong passphrase): {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError("the key is not an Ed25519 key")
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls.from_seed(seed)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    try:
        nacl.bindings.crypto_sign_open(signature + message, public)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def save(identity: Identity, path: Path, *, overwrite: bool = False) -> None:
    """Write the key file with mode 0600, never readable by others even briefly."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a member key") from exc
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(identity.to_pem())
        f.flush()
        os.fsync(f.fileno())


def load(path: Path) -> Identity:
    """Read the key file; refuse a missing, unreadable, malformed or too-open one."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"no member key at {path}: run `p2pnet init` or `p2pnet key import`"
        ) from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"run `chmod 600 {path}`"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from exc
    return Identity.from_pem(data)
