"""Catch-up benchmark: a fresh node syncs N entries from one peer over loopback HTTP.

    python bench/catchup.py [--entries 100000] [--members 1000]

The serving peer is a real node process; the fresh node runs in this process
with a verification pool of one worker per core. Bytes are counted by a TCP
proxy between them (HTTP headers included). Prints the time beside
entries / raw verify rate (target: ratio <= 2), wire bytes / entries' own
bytes (target <= 1.2), round trips, and peak RSS sampled during the sync.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil  # noqa: E402
from common import CountingProxy, generate, raw_verify_rates, spawn_node  # noqa: E402

from p2pnet import identity as idmod  # noqa: E402
from p2pnet.config import Home, split_hostport  # noqa: E402
from p2pnet.identity import Identity  # noqa: E402
from p2pnet.node.runner import StoreRunner  # noqa: E402
from p2pnet.store import Store  # noqa: E402
from p2pnet.sync.client import PeerClient  # noqa: E402
from p2pnet.sync.gossip import Gossiper  # noqa: E402
from p2pnet.verify import VerifyPool  # noqa: E402


async def catch_up(home: Home, network: bytes, url: str, workers: int) -> dict:
    import aiohttp

    who = Identity.generate()
    db = StoreRunner(home.db_file)
    await db.open()
    await db.call(lambda s: s.set_network(network))
    pool = VerifyPool(workers)
    pool(_warm)  # start the workers outside the timing
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    rss_samples = []

    async def ingest(raws, source, after=None):
        verify = await pool.presort(raws)
        if after is not None:
            await asyncio.shield(after)
        report = await db.call(lambda s: s.ingest(raws, verify=verify or pool))
        rss = proc.memory_info().rss
        peak[0] = max(peak[0], rss)
        rss_samples.append(rss)
        return report

    async with aiohttp.ClientSession() as session:
        client = PeerClient(session, who)
        g = Gossiper(call=db.call, identity=who, client=client, network=lambda: network,
                     feeds=lambda: db.call(lambda s: s.feeds()), ingest=ingest, interval=3600,
                     fanout=1, max_batch=2000, own_urls=set())  # fmt: skip
        t0 = time.perf_counter()
        result = await g.sync_with(url)
        elapsed = time.perf_counter() - t0
        t1 = time.perf_counter()
        indexed = await db.call(lambda s: s.index_pending())
        index_time = time.perf_counter() - t1
    count = await db.call(lambda s: s.count())
    await db.close()
    pool.close()
    return {
        "elapsed": elapsed, "index_time": index_time, "indexed": indexed, "count": count, "result": result, "requests": client.traffic.requests,
        "peak_rss": peak[0], "rss_samples": rss_samples,
    }  # fmt: skip


_warm: list = []


def main() -> None:
    global _warm
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    network, made = generate(args.entries, args.members)
    payload = sum(len(e.raw) for e in made)
    _warm = made[:600]
    rates = raw_verify_rates(made[:2000])
    fastest = max(rates.values())
    with tempfile.TemporaryDirectory() as tmp:
        src = Home(Path(tmp) / "source")
        src.create_dirs()
        idmod.save(Identity.generate(), src.key_file)
        src.write_admin_token()
        with Store(src.db_file) as s:
            s.set_network(network)
            for i in range(0, len(made), 5000):
                s.ingest([e.raw for e in made[i : i + 5000]], verify=lambda b: [True] * len(b))
        proc, info = spawn_node(src)
        try:
            host, port = split_hostport(info["peer_url"].removeprefix("http://"))
            proxy = CountingProxy(host, port)

            async def run() -> dict:
                url = await proxy.start()
                out = await catch_up(Home(Path(tmp) / "fresh"), network, url, args.workers)
                await proxy.stop()
                return out

            Path(tmp, "fresh").mkdir()
            out = asyncio.run(run())
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    ideal = len(made) / fastest
    wire = proxy.up + proxy.down
    samples = out["rss_samples"]
    third = max(1, len(samples) // 3)
    print(f"entries: {out['count']:,} of {len(made):,} ({payload / len(made):.0f} B each, {payload / 1e6:.1f} MB)")
    print(f"raw single-core verify: PyNaCl {rates['pynacl']:,.0f}/s, cryptography {rates['cryptography']:,.0f}/s")
    print(f"catch-up time: {out['elapsed']:.2f} s = {len(made) / out['elapsed']:,.0f} entries/s; "
          f"entries / raw verify rate = {ideal:.2f} s; ratio {out['elapsed'] / ideal:.2f} (target <= 2)")  # fmt: skip
    print(f"search index built afterwards: {out['indexed']:,} documents in {out['index_time']:.2f} s "
          f"(end to end {len(made) / (out['elapsed'] + out['index_time']):,.0f} entries/s)")  # fmt: skip
    print(f"wire bytes: {wire / 1e6:.2f} MB (up {proxy.up:,}, down {proxy.down:,}); "
          f"wire / payload = {wire / payload:.3f} (target <= 1.2)")  # fmt: skip
    print(f"round trips: {out['requests']} HTTP requests ({out['result'].round_trips} reconcile)")
    print(f"peak RSS of the catching-up process: {out['peak_rss'] / 1e6:.0f} MB; "
          f"mean RSS first third {sum(samples[:third]) / third / 1e6:.0f} MB, "
          f"last third {sum(samples[-third:]) / third / 1e6:.0f} MB; "
          f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
