"""Ingest benchmark: decode + verify + store + index of remote entries.

    python bench/ingest.py [--entries 100000] [--members 1000]

Prints entries/s beside the raw single-core Ed25519 verify rate measured in
the same run, and their ratio (target: >= 0.8 x the fastest verifier).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import generate, raw_verify_rates  # noqa: E402

from p2pnet.store import Store, verify_serial  # noqa: E402
from p2pnet.verify import VerifyPool  # noqa: E402


def run(raws: list[bytes], network: bytes, verify, batch: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite3")
        store.set_network(network)
        t0 = time.perf_counter()
        accepted = 0
        for i in range(0, len(raws), batch):
            accepted += len(store.ingest(raws[i : i + batch], verify=verify).accepted)
        elapsed = time.perf_counter() - t0
        assert store.integrity_check() == "ok"
        store.close()
    return elapsed, accepted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=5000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    network, made = generate(args.entries, args.members)
    raws = [e.raw for e in made]
    size = sum(len(r) for r in raws)
    print(f"generated {len(raws):,} entries from {args.members:,} members "
          f"({size / len(raws):.0f} B each) in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    rates = raw_verify_rates(made[:2000])
    fastest = max(rates.values())
    print(f"raw single-core verify: PyNaCl {rates['pynacl']:,.0f}/s, "
          f"cryptography {rates['cryptography']:,.0f}/s")  # fmt: skip

    elapsed, n = run(raws, network, verify_serial, args.batch)
    serial = n / elapsed
    print(f"ingest, one core:        {serial:,.0f} entries/s  ratio {serial / fastest:.2f} x fastest raw verify")
    pool = VerifyPool(os.cpu_count() or 2)
    try:
        pool(made[:PARALLEL_WARMUP])  # start the workers outside the timing
        elapsed, n = run(raws, network, pool, args.batch)
    finally:
        pool.close()
    par = n / elapsed
    print(f"ingest, {pool.workers} verify processes: {par:,.0f} entries/s  "
          f"ratio {par / fastest:.2f} x fastest raw verify (target >= 0.8)")  # fmt: skip


PARALLEL_WARMUP = 512

if __name__ == "__main__":
    main()
