"""Canonical msgpack: one byte string for one value.

The rules (docs/protocol.md, "Canonical msgpack"):

* only nil, booleans, integers, UTF-8 strings, binary, arrays and maps;
  no floats and no extension types;
* every value in its shortest msgpack form (what msgpack-python's ``packb``
  with ``use_bin_type=True`` writes);
* map keys are strings, unique, sorted by their UTF-8 bytes.

``decode`` re-encodes what it read and refuses the input unless the bytes are
identical, so there is exactly one encoding of every value.
"""

from __future__ import annotations

from typing import Any

import msgpack

from .errors import EntryRefusedError, Refusal

MAX_DEPTH = 8


def _canon(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with every map's keys sorted; refuse types we do not allow."""
    if depth > MAX_DEPTH:
        raise EntryRefusedError(Refusal.MALFORMED, "value nested too deeply")
    if value is None or isinstance(value, bool | int | str | bytes):
        return value
    if isinstance(value, list | tuple):
        return [_canon(v, depth + 1) for v in value]
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise EntryRefusedError(Refusal.MALFORMED, f"map key {k!r} is not a string")
        return {k: _canon(value[k], depth + 1) for k in sorted(value, key=_key_bytes)}
    raise EntryRefusedError(Refusal.MALFORMED, f"type {type(value).__name__} is not allowed")


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8")


def encode(value: Any) -> bytes:
    """Encode ``value`` canonically (maps sorted by key)."""
    try:
        return msgpack.packb(_canon(value), use_bin_type=True)  # type: ignore[no-any-return]
    except (OverflowError, ValueError) as exc:  # ints beyond 64 bits, bad surrogates
        raise EntryRefusedError(Refusal.MALFORMED, f"cannot encode: {exc}") from exc


def _reject_ext(code: int, data: bytes) -> Any:
    raise EntryRefusedError(Refusal.NON_CANONICAL, f"msgpack extension type {code} is not allowed")


def decode(data: bytes, *, max_len: int = 1 << 20, trusted: bool = False) -> Any:
    """Decode canonical msgpack bytes; refuse anything else with a reason.

    ``trusted``: the bytes were checked when they were stored (the store replaying its
    own log), so skip the canonical-form checks, which cost as much as the decoding.
    """
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            ext_hook=_reject_ext,
            max_str_len=max_len,
            max_bin_len=max_len,
            max_array_len=max_len,
            max_map_len=max_len,
        )
    except EntryRefusedError:
        raise
    except (msgpack.ExtraData, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise EntryRefusedError(Refusal.MALFORMED, f"not msgpack: {exc}") from exc
    if trusted:
        return value
    _check_canonical(value, 0)
    if msgpack.packb(value, use_bin_type=True) != data:
        raise EntryRefusedError(
            Refusal.NON_CANONICAL, "bytes are not the canonical msgpack of their value"
        )
    return value


def _check_canonical(value: Any, depth: int) -> None:
    """Refuse floats and unsorted map keys; packb cannot see the key order."""
    if depth > MAX_DEPTH:
        raise EntryRefusedError(Refusal.MALFORMED, "value nested too deeply")
    if isinstance(value, float):
        raise EntryRefusedError(Refusal.NON_CANONICAL, "floats are not allowed")
    if isinstance(value, list):
        for v in value:
            _check_canonical(v, depth + 1)
    elif isinstance(value, dict):
        prev: bytes | None = None
        for k, v in value.items():
            kb = k.encode("utf-8")
            if prev is not None and kb <= prev:
                raise EntryRefusedError(Refusal.NON_CANONICAL, "map keys are not sorted")
            prev = kb
            _check_canonical(v, depth + 1)
