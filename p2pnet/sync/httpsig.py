"""HTTP Message Signatures (RFC 9421) with Ed25519, as peers use them.

Every peer request carries::

    Content-Digest: sha-256=:<base64 sha256 of the body>:          (RFC 9530)
    Signature-Input: p2p=("@method" "@path" "content-digest");created=<unix s>;\
keyid="<member id>";alg="ed25519";nonce="<random>"
    Signature: p2p=:<base64 Ed25519 signature of the signature base>:

The signature base is RFC 9421 section 2.5's: one line per covered component,
then the ``@signature-params`` line, joined by LF with no trailing newline.
A server refuses a request that is unsigned, signed by a malformed key,
badly signed, older or newer than its replay window, or whose nonce it has
already seen inside that window.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping

from .. import ids
from ..identity import Identity, verify

LABEL = "p2p"
COMPONENTS = ('"@method"', '"@path"', '"content-digest"')
_INPUT = re.compile(
    r'^p2p=\("@method" "@path" "content-digest"\);created=(\d{1,12});'
    r'keyid="(pm[a-z2-7]{52})";alg="ed25519";nonce="([A-Za-z0-9_-]{8,64})"$'
)
_SIG = re.compile(r"^p2p=:([A-Za-z0-9+/]{86}==):$")


class AuthError(Exception):
    """A request's signature was refused; the message says why."""


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _params(created: int, keyid: str, nonce: str) -> str:
    return f'({" ".join(COMPONENTS)});created={created};keyid="{keyid}";alg="ed25519";nonce="{nonce}"'


def signature_base(method: str, path: str, digest: str, params: str) -> bytes:
    lines = [
        f'"@method": {method.upper()}',
        f'"@path": {path}',
        f'"content-digest": {digest}',
        f'"@signature-params": {params}',
    ]
    return "\n".join(lines).encode("utf-8")


def sign_request(
    who: Identity, method: str, path: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """Headers that sign a request for ``path`` (no query string) with ``who``'s key."""
    created = int(time.time() if now is None else now)
    nonce = secrets.token_urlsafe(12)
    digest = content_digest(body)
    params = _params(created, who.member_id, nonce)
    sig = who.sign(signature_base(method, path, digest, params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{LABEL}={params}",
        "Signature": f"{LABEL}=:{base64.b64encode(sig).decode()}:",
    }


class ReplayGuard:
    """Remembers the nonces of the replay window, bounded in size.

    A nonce is forgotten once its request's ``created`` falls out of the window (the
    window check refuses a replay of it then). When a flood of fresh nonces fills the
    guard, the oldest are forgotten early; the guard then refuses every request created
    at or before the latest one it forgot (``floor``), since it could no longer tell a
    replay of those from a first use.
    """

    def __init__(self, window: float, max_entries: int = 100_000) -> None:
        self.window = window
        self.max_entries = max_entries
        self.floor = -1  # requests created at or before this (unix s) are refused
        self._seen: OrderedDict[str, int] = OrderedDict()  # key -> created, oldest first

    def check_and_add(self, key: str, created: int, now: float) -> str | None:
        """None if ``key`` is new (it is remembered), else why the request is refused."""
        while self._seen:
            _, t = next(iter(self._seen.items()))
            full = len(self._seen) >= self.max_entries
            if not full and t >= now - self.window:
                break
            self._seen.popitem(last=False)
            if full and t >= now - self.window:
                self.floor = max(self.floor, t)
        if key in self._seen:
            return "replayed request: this nonce was already used"
        if created <= self.floor:
            return (
                "too many requests to remember their nonces: this one is older than the "
                "oldest the node still checks for replays; sign it again and retry"
            )
        self._seen[key] = created
        return None


def verify_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    guard: ReplayGuard,
    now: float | None = None,
) -> bytes:
    """Check a request's signature; return the signer's public key or raise AuthError."""
    now = time.time() if now is None else now
    sig_input = headers.get("Signature-Input")
    sig_header = headers.get("Signature")
    digest = headers.get("Content-Digest")
    if not sig_input or not sig_header or not digest:
        raise AuthError("request is not signed (Signature, Signature-Input and Content-Digest needed)")
    m = _INPUT.match(sig_input)
    if m is None:
        raise AuthError(
            'Signature-Input must cover ("@method" "@path" "content-digest") '
            "with created, keyid, alg=ed25519 and nonce"
        )
    created, keyid, nonce = int(m.group(1)), m.group(2), m.group(3)
    s = _SIG.match(sig_header)
    if s is None:
        raise AuthError("Signature must be p2p=:<base64 Ed25519 signature>:")
    if digest != content_digest(body):
        raise AuthError("Content-Digest does not match the body")
    if abs(now - created) > guard.window:
        raise AuthError(
            f"signature created {int(now - created)} s from now; the window is ±{int(guard.window)} s "
            "(check the clocks)"
        )
    try:
        public = ids.from_text(ids.MEMBER, keyid)
    except ValueError as exc:
        raise AuthError(f"keyid: {exc}") from exc
    params = sig_input[len(LABEL) + 1 :]
    base = signature_base(method, path, digest, params)
    if not verify(public, base, base64.b64decode(s.group(1))):
        raise AuthError("signature does not verify")
    refused = guard.check_and_add(f"{keyid}/{nonce}", created, now)
    if refused:
        raise AuthError(refused)
    return public
