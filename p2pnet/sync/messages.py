"""Wire messages of the peer protocol: pure encode/decode, strict on input.

Bodies are msgpack (docs/protocol.md). Decoders check every type and bound
and raise WireError naming what is wrong; a handler turns that into a 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack

from ..store import FeedState
from .reconcile import FP_LEN, Answer, Range, bound, unbound

PROTOCOL = 1
CONTENT_TYPE = "application/msgpack"
ENTRIES_TYPE = "application/x-p2pnet-entries"
MAX_RANGES = 4096
MAX_WANTS = 100_000


class WireError(ValueError):
    """A peer message is malformed; the message says how."""


def _unpack(body: bytes) -> dict[str, Any]:
    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, max_bin_len=len(body))
    except Exception as exc:  # msgpack raises several unrelated types
        raise WireError(f"body is not msgpack: {exc}") from None
    if not isinstance(value, dict):
        raise WireError("body must be a msgpack map")
    return value


def _pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _field(msg: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in msg:
        raise WireError(f"field {name!r} is missing")
    value = msg[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise WireError(f"field {name!r} has the wrong type")
    return value


def _key(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise WireError(f"{what} must be 32 bytes")
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**53:
        raise WireError(f"{what} must be a non-negative integer")
    return value


def _network(msg: dict[str, Any]) -> bytes:
    return _key(_field(msg, "net", bytes), "net")


def _range(item: Any) -> Range:
    if not isinstance(item, list) or len(item) != 4:
        raise WireError("a range is [lo, hi, count, fingerprint]")
    lo_raw, hi_raw, count, fp = item
    try:
        lo, hi = unbound(lo_raw) if lo_raw else 0, unbound(hi_raw)
    except (ValueError, TypeError):
        raise WireError("range bounds must be 32 bytes or empty") from None
    if lo >= hi:
        raise WireError("a range must have lo < hi")
    if not isinstance(fp, bytes) or len(fp) != FP_LEN:
        raise WireError(f"a fingerprint is {FP_LEN} bytes")
    return Range(lo, hi, _count(count, "count"), fp)


def _feed_row(item: Any) -> FeedState:
    if not isinstance(item, list) or len(item) != 4:
        raise WireError("a feed row is [author, seq, head, forked]")
    author, seq, head, forked = item
    if not isinstance(forked, bool):
        raise WireError("forked must be a boolean")
    return FeedState(_key(author, "author"), _count(seq, "seq"), _key(head, "head"), forked)


# -- reconcile ----------------------------------------------------------------


def encode_reconcile(network: bytes, ranges: Iterable[Range]) -> bytes:
    return _pack({"net": network, "ranges": [r.wire() for r in ranges]})


def decode_reconcile(body: bytes) -> tuple[bytes, list[Range]]:
    msg = _unpack(body)
    ranges = _field(msg, "ranges", list)
    if len(ranges) > MAX_RANGES:
        raise WireError(f"at most {MAX_RANGES} ranges in one request")
    out = [_range(r) for r in ranges]
    # each range costs the answering node a pass over the feeds in it: overlapping
    # ranges (4,096 copies of the whole space) would cost 4,096 passes over all of them
    if any(a.hi > b.lo for a, b in zip(out, out[1:], strict=False)):
        raise WireError("ranges must be in order and must not overlap")
    return _network(msg), out


def encode_answer(ans: Answer) -> bytes:
    return _pack(
        {
            "ranges": [r.wire() for r in ans.ranges],
            "rows": [
                [bound(lo), bound(hi), [[f.author, f.seq, f.head, f.forked] for f in rows]]
                for lo, hi, rows in ans.rows
            ],
        }
    )


def decode_answer(body: bytes) -> Answer:
    msg = _unpack(body)
    out = Answer(ranges=[_range(r) for r in _field(msg, "ranges", list)])
    for item in _field(msg, "rows", list):
        if not isinstance(item, list) or len(item) != 3 or not isinstance(item[2], list):
            raise WireError("rows are [lo, hi, [feed rows]]")
        lo_raw, hi_raw, rows = item
        try:
            lo, hi = unbound(lo_raw) if lo_raw else 0, unbound(hi_raw)
        except (ValueError, TypeError):
            raise WireError("row bounds must be 32 bytes or empty") from None
        out.rows.append((lo, hi, [_feed_row(r) for r in rows]))
    return out


# -- fetch --------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRequest:
    network: bytes
    want: list[tuple[bytes, int]]  # (author, after seq)
    proofs: list[bytes]  # authors whose fork proofs are wanted
    max_bytes: int


def encode_fetch(req: FetchRequest) -> bytes:
    return _pack(
        {
            "net": req.network,
            "want": [[a, s] for a, s in req.want],
            "proofs": list(req.proofs),
            "max_bytes": req.max_bytes,
        }
    )


def decode_fetch(body: bytes) -> FetchRequest:
    msg = _unpack(body)
    want = _field(msg, "want", list)
    proofs = _field(msg, "proofs", list)
    if len(want) + len(proofs) > MAX_WANTS:
        raise WireError(f"at most {MAX_WANTS} feeds in one fetch")
    pairs = []
    for item in want:
        if not isinstance(item, list) or len(item) != 2:
            raise WireError("a want is [author, after seq]")
        pairs.append((_key(item[0], "author"), _count(item[1], "after seq")))
    return FetchRequest(
        network=_network(msg),
        want=pairs,
        proofs=[_key(a, "proof author") for a in proofs],
        max_bytes=_count(_field(msg, "max_bytes", int), "max_bytes"),
    )


def frame(raw: bytes) -> bytes:
    """One entry in an entry stream: a msgpack bin object."""
    return _pack(raw)


def unframe(chunks: Iterable[bytes], max_entry: int) -> Iterator[bytes]:
    """Entries from a stream of byte chunks (for tests and bundles)."""
    unpacker = msgpack.Unpacker(raw=False, max_bin_len=max_entry, max_buffer_size=4 * max_entry)
    for chunk in chunks:
        unpacker.feed(chunk)
        yield from _drain(unpacker)


def _drain(unpacker: msgpack.Unpacker) -> Iterator[bytes]:
    try:
        for item in unpacker:
            if not isinstance(item, bytes):
                raise WireError("an entry stream holds only byte strings")
            yield item
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"entry stream is not msgpack: {exc}") from None


class StreamDecoder:
    """Incremental decoder of an entry stream."""

    def __init__(self, max_entry: int) -> None:
        self._unpacker = msgpack.Unpacker(
            raw=False, max_bin_len=max_entry, max_buffer_size=4 * max_entry + 1024
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        try:
            self._unpacker.feed(chunk)
        except msgpack.BufferFull:
            raise WireError("an entry in the stream is larger than allowed") from None
        return list(_drain(self._unpacker))


# -- push ---------------------------------------------------------------------


def encode_push(network: bytes, raws: Iterable[bytes]) -> bytes:
    return _pack({"net": network, "entries": list(raws)})


def decode_push(body: bytes, max_batch: int) -> tuple[bytes, list[bytes]]:
    msg = _unpack(body)
    raws = _field(msg, "entries", list)
    if len(raws) > max_batch:
        raise WireError(f"{len(raws)} entries in one push; at most {max_batch} allowed")
    if not all(isinstance(r, bytes) for r in raws):
        raise WireError("entries must be byte strings")
    return _network(msg), raws


def encode_report(report: dict[str, Any]) -> bytes:
    return _pack(report)


def decode_report(body: bytes) -> dict[str, Any]:
    return _unpack(body)


# -- join ---------------------------------------------------------------------


def encode_join(token: str, raws: Iterable[bytes]) -> bytes:
    return _pack({"token": token, "entries": list(raws)})


def decode_join(body: bytes, max_batch: int) -> tuple[str, list[bytes]]:
    msg = _unpack(body)
    token = _field(msg, "token", str)
    raws = _field(msg, "entries", list)
    if len(token) > 4096 or len(raws) > max_batch or not all(isinstance(r, bytes) for r in raws):
        raise WireError("a join carries a token and at most a batch of entries")
    return token, raws
