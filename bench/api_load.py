"""API load: a realistic mix of requests on a node process, beside that node's own ceiling.

    .venv/bin/python bench/api_load.py [--clients 20 100] [--seconds 10] \\
        [--members 500 --per-member 20]

A real node process (``p2pnet run``) holds the sample network (as ``p2pnet
demo`` builds it) plus ``--members`` generated members with ``--per-member``
activities each. For each number of concurrent clients it runs, for
``--seconds`` each:

1. the ceiling: the lightest request that still reads the store
   (``GET /api/v1/status``), measured in the same run on the same machine;
2. the mix the load test sends (tests/cluster.py ``request_mix``): member
   lists and pages, Thai and English search, activities, match, health, the
   website's pages, a few admin-token writes and a few wrong requests.

It prints requests/s, median and p99 latency of both, the mix's throughput as
a ratio of the ceiling, the slowest kind of request, and the errors (a status
not right for the request, a connection error or a timeout; there should be
none). tests/test_api_load.py runs the same load as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster import Call, api_load, request_mix, sample_home, spawn_node, stop_process  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--members", type=int, default=500, help="generated members, and the sample")
    ap.add_argument("--per-member", type=int, default=20, help="activities per generated member")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, held = sample_home(Path(tmp) / "node", extra_members=args.members,
                                 per_member=args.per_member, seed=args.seed)  # fmt: skip
        proc, info = spawn_node(home, gossip_interval=3600.0, verify_workers=1)
        try:
            api, token = info["api_url"], home.admin_token()
            print(f"node: {len(held['members']):,} members, {len(held['activities']):,} "
                  f"activities; {args.seconds:g} s per run")  # fmt: skip
            # warm the node's caches and lazily loaded parts once, as a running node would be
            warm = request_mix(held, random.Random(args.seed))
            asyncio.run(api_load(api, token, warm, clients=5, seconds=min(3.0, args.seconds)))
            status = Call("status", "GET", "/api/v1/status")
            for clients in args.clients:
                ceiling = asyncio.run(api_load(api, token, lambda: status, clients=clients,
                                               seconds=args.seconds))  # fmt: skip
                mix = asyncio.run(api_load(api, token, request_mix(held, random.Random(args.seed)),
                                           clients=clients, seconds=args.seconds))  # fmt: skip
                c, m = ceiling.figures(), mix.figures()
                slowest = max(mix.latencies, key=lambda k: mix.percentile(0.99, k))
                ratio = m["req_per_s"] / c["req_per_s"]
                print(f"{clients:4d} clients: ceiling (GET /api/v1/status) {c['req_per_s']:.0f} "
                      f"req/s, p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.0f} ms; mix "
                      f"{m['req_per_s']:.0f} req/s, p50 {m['p50_ms']:.1f} ms, "
                      f"p99 {m['p99_ms']:.0f} ms; mix / ceiling {ratio:.2f}; slowest: {slowest} "
                      f"(p99 {mix.percentile(0.99, slowest) * 1000:.0f} ms); "
                      f"errors {len(ceiling.errors) + len(mix.errors)}", flush=True)  # fmt: skip
                for e in (ceiling.errors + mix.errors)[:5]:
                    print("   ", e)
        finally:
            stop_process(proc)


if __name__ == "__main__":
    main()
