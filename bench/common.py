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


# -- real node processes and a byte-counting proxy --------------------------------

import asyncio  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

# One harness starts node processes for the benchmarks and the tests alike (tests/cluster.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import cluster  # noqa: E402


def spawn_node(home, interval: float = 3600.0, fanout: int = 2) -> tuple[subprocess.Popen, dict]:
    """Start ``p2pnet run`` for ``home`` on loopback (OS-chosen ports); wait for its node.json."""
    return cluster.spawn_node(home, gossip_interval=interval, fanout=fanout)


class CountingProxy:
    """A TCP proxy on loopback that counts the bytes crossing it each way."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.up = 0  # client -> server
        self.down = 0  # server -> client
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool) -> None:
        try:
            while data := await reader.read(1 << 16):
                self.passed(data, up, reader)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def passed(self, data: bytes, up: bool, source: asyncio.StreamReader) -> None:
        """Called with every chunk that crosses; ``source`` is the side it was read from."""
        if up:
            self.up += len(data)
        else:
            self.down += len(data)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        r2, w2 = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, w2, True), self._pipe(r2, writer, False))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


def status(api_url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(api_url + "/api/v1/status", timeout=10) as resp:
        return json.loads(resp.read())
