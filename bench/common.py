"""Shared helpers for the benchmarks: generated signed entries and raw verify rates."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from p2pnet import entries
from p2pnet.entries import SIGN_PREFIX, Entry
from p2pnet.identity import Identity, verify

PLACES = ["ศาลาอเนกประสงค์หมู่ 3", "รพ.สต.บ้านดอนแก้ว", "โรงเรียนบ้านแม่ริม", "Community hall, Mae Rim"]
TITLES = [
    "ประชุมเครือข่ายผู้สูงอายุ ครั้งที่ {i}",
    "อบรมปฐมพยาบาลและ CPR ให้ อสม. รุ่นที่ {i}",
    "Joint health screening day #{i}",
    "แลกเปลี่ยนเรียนรู้การดูแลผู้ป่วยติดเตียง {i}",
]


def generate(n: int, members: int, *, seed: int = 1) -> tuple[bytes, list[Entry]]:
    """A genesis and ``n`` more signed entries spread over ``members`` feeds."""
    rng = random.Random(seed)
    founder = Identity.from_seed(rng.randbytes(32))
    genesis = entries.create(founder, network=b"", seq=1, prev=None, kind="network",
                             body={"name": "เครือข่ายทดสอบ", "kind": "hybrid"})  # fmt: skip
    net = genesis.id
    people = [founder] + [Identity.from_seed(rng.randbytes(32)) for _ in range(members - 1)]
    heads: dict[bytes, tuple[int, bytes | None]] = {founder.public: (1, genesis.id)}
    out = [genesis]
    ts = entries.now_ms() - 10**9
    for i in range(n):
        who = people[i % members]
        seq, prev = heads.get(who.public, (0, None))
        if seq == 0:
            kind, body = "profile", {"name_th": f"ชมรมผู้สูงอายุบ้าน {i}", "name_en": f"Elderly club {i}",
                                     "province": "TH-50", "offers": ["ห้องประชุม"], "needs": ["อาสาสมัคร"]}  # fmt: skip
        else:
            kind, body = "activity", {
                "title": rng.choice(TITLES).format(i=i), "kind": "meeting",
                "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", "place": rng.choice(PLACES),
                "summary": "แลกเปลี่ยนการดูแลผู้สูงอายุ",
            }  # fmt: skip
        e = entries.create(who, network=net, seq=seq + 1, prev=prev, kind=kind, body=body, ts=ts + i)
        heads[who.public] = (seq + 1, e.id)
        out.append(e)
    return net, out


def raw_verify_rates(sample: Sequence[Entry], seconds: float = 1.5) -> dict[str, float]:
    """Single-core verifies per second of PyNaCl (libsodium) and cryptography (OpenSSL)."""
    items = [(e.author, SIGN_PREFIX + e.content, e.signature) for e in sample]
    rates = {}
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for a, m, s in items:
            verify(a, m, s)
        done += len(items)
    rates["pynacl"] = done / (time.perf_counter() - t0)
    keys = {a: Ed25519PublicKey.from_public_bytes(a) for a, _, _ in items}
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for a, m, s in items:
            keys[a].verify(s, m)
        done += len(items)
    rates["cryptography"] = done / (time.perf_counter() - t0)
    return rates
