"""Spread: rounds and seconds for one new entry to reach all N real node processes.

    python bench/spread.py [--nodes 10 30 50] [--trials 5] [--interval 1.0]

Each node is its own process on loopback with 3 random peers (plus a ring,
so the graph is connected), gossiping every --interval seconds (±50% jitter)
with 2 of them. An entry is written into one node's store from outside (as
the CLI does); the node pushes it to 2 peers at once and the rest travels by
pull. Prints the rounds (seconds / interval) until every node holds it,
beside push-pull gossip's mean (about 3.5 at N = 10, 6.6 at N = 100), and the
redundancy: entry bytes delivered to all nodes / ((N - 1) x entry size).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import spawn_node, status  # noqa: E402

from p2pnet import identity as idmod  # noqa: E402
from p2pnet.config import Home  # noqa: E402
from p2pnet.identity import Identity  # noqa: E402
from p2pnet.store import Store  # noqa: E402

REFERENCE = {10: 3.5, 100: 6.6, 1000: 9.2}


def reference(n: int) -> float:
    """Push-pull mean rounds, interpolated in log N between the simulated points."""
    xs = sorted(REFERENCE)
    for lo, hi in zip(xs, xs[1:], strict=False):
        if n <= hi:
            f = (math.log(n) - math.log(lo)) / (math.log(hi) - math.log(lo))
            return REFERENCE[lo] + f * (REFERENCE[hi] - REFERENCE[lo])
    return REFERENCE[xs[-1]]


def add_peer(api_url: str, token: str, url: str) -> None:
    req = urllib.request.Request(api_url + "/api/v1/peers", data=json.dumps({"url": url}).encode(),
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})  # fmt: skip
    urllib.request.urlopen(req, timeout=10).read()


def run(n: int, trials: int, interval: float, rng: random.Random) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        people = [Identity.generate() for _ in range(n)]
        base = Path(tmp) / "base.sqlite3"
        with Store(base) as s:
            s.create_network(people[0], {"name": "เครือข่ายทดสอบการกระจาย", "kind": "natural"})
            for i, who in enumerate(people):
                s.append(who, "profile", {"name_th": f"สมาชิก {i}"})
            raws = list(s.iter_raw())
            network = s.network
        homes = []
        for i, who in enumerate(people):
            home = Home(Path(tmp) / f"n{i}")
            home.create_dirs()
            idmod.save(who, home.key_file)
            home.write_admin_token()
            with Store(home.db_file) as s:
                s.set_network(network)
                s.ingest(raws)
            homes.append(home)
        procs = []
        try:
            for home in homes:
                procs.append(spawn_node(home, interval=interval, fanout=2))
            infos = [info for _, info in procs]
            for i, info in enumerate(infos):
                others = {(i + 1) % n} | set(rng.sample([j for j in range(n) if j != i], 3))
                for j in others:
                    add_peer(info["api_url"], homes[i].admin_token(), infos[j]["peer_url"])
            time.sleep(2 * interval)
            readers = [sqlite3.connect(f"file:{h.db_file}?mode=ro", uri=True) for h in homes]
            results = []
            for t in range(trials):
                origin = rng.randrange(n)
                before = sum(status(info["api_url"])["gossip"]["entry_bytes_received"] for info in infos)
                with Store(homes[origin].db_file) as s:
                    e = s.append(people[origin], "activity", {
                        "title": f"กิจกรรมใหม่ {t}", "kind": "meeting", "date": "2026-08-01"})  # fmt: skip
                t0 = time.monotonic()
                missing = set(range(n)) - {origin}
                while missing and time.monotonic() - t0 < 120:
                    for j in list(missing):
                        if readers[j].execute("SELECT 1 FROM entries WHERE id=?", (e.id,)).fetchone():
                            missing.discard(j)
                    time.sleep(0.02)
                elapsed = time.monotonic() - t0
                time.sleep(2 * interval)  # let stragglers settle before counting bytes
                after = sum(status(info["api_url"])["gossip"]["entry_bytes_received"] for info in infos)
                results.append((elapsed, (after - before) / ((n - 1) * len(e.raw)), not missing))
            for r in readers:
                r.close()
        finally:
            for proc, _ in procs:
                proc.send_signal(signal.SIGTERM)
            for proc, _ in procs:
                proc.wait(timeout=60)
    secs = [r[0] for r in results]
    return {
        "n": n,
        "seconds_mean": statistics.mean(secs),
        "seconds_max": max(secs),
        "rounds_mean": statistics.mean(secs) / interval,
        "rounds_max": max(secs) / interval,
        "redundancy": statistics.mean(r[1] for r in results),
        "all_reached": all(r[2] for r in results),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[10, 30, 50])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"gossip interval {args.interval} s (±50% jitter), fanout 2, {args.trials} trials each")
    for n in args.nodes:
        r = run(n, args.trials, args.interval, rng)
        print(f"N={n:3d}: rounds mean {r['rounds_mean']:.2f} (push-pull reference {reference(n):.1f}), "
              f"max {r['rounds_max']:.2f}; seconds mean {r['seconds_mean']:.2f}, max {r['seconds_max']:.2f}; "
              f"redundancy {r['redundancy']:.2f} (target <= 2); all reached: {r['all_reached']}")  # fmt: skip


if __name__ == "__main__":
    main()
